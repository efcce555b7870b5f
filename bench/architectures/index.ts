/**
 * Every synthetic architecture, by name: small widths and spatial sizes but the real topology,
 * seeded weights, in any of the four exporter layouts (layout.ts).
 */
import { densenet121, googlenet, squeezenet11 } from './dense-fire-inception';
import type { ArchModel, Layout } from './layout';
import { efficientnetB0, mobilenetV1, mobilenetV2, mobilenetV3 } from './mobile';
import { resnet50, vgg19 } from './resnet-vgg';
import { convnext, shufflenetV2 } from './shuffle-convnext';

export { LAYOUTS, LAYOUT_OPSET, type ArchModel, type ExpectedTap, type Layout } from './layout';

export const ARCHITECTURES = Object.freeze({
  resnet50,
  vgg19,
  mobilenet_v1: mobilenetV1,
  mobilenet_v2: mobilenetV2,
  mobilenet_v3: mobilenetV3,
  efficientnet_b0: efficientnetB0,
  densenet121,
  squeezenet1_1: squeezenet11,
  googlenet,
  shufflenet_v2: shufflenetV2,
  convnext,
} satisfies Record<string, (layout: Layout) => ArchModel>);

export type ArchitectureName = keyof typeof ARCHITECTURES;
export const ARCHITECTURE_NAMES = Object.freeze(Object.keys(ARCHITECTURES) as ArchitectureName[]);
