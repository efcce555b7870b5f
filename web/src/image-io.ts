/**
 * Browser image IO: decode a dropped file or a sample URL to RGBA bytes (no color management
 * or premultiplication, so gray PNGs keep their exact values), and paint planar images on canvases.
 */
import { decodeBuiltin } from '../../src/images/formats';
import { rasterToRgba } from '../../src/images/raster';
import { planarToRgba, type Planar } from '../../src/denoise';

/** Decoded RGBA pixels. */
export interface Rgba {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** Largest side accepted from a dropped image (bigger ones are refused rather than freezing the tab). */
export const MAX_SIDE = 4096;

/**
 * Decodes an image blob: BMP and PGM/PPM with the CLI's own decoders (browsers lack PNM, and this
 * keeps BMP palettes and 16-bit PNM exactly as the CLI reads them), anything else with the browser.
 * @throws Error when it cannot be decoded or is larger than MAX_SIDE
 */
export async function decodeImage(blob: Blob): Promise<Rgba> {
  const raster = decodeBuiltin(new Uint8Array(await blob.arrayBuffer()), MAX_SIDE * MAX_SIDE);
  if (raster) {
    const { width, height } = raster;
    if (width > MAX_SIDE || height > MAX_SIDE) throw new Error(`image is ${width}×${height}; the page takes sides up to ${MAX_SIDE}`);
    return { data: rasterToRgba(raster), width, height };
  }
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    const { width, height } = bitmap;
    if (width > MAX_SIDE || height > MAX_SIDE) throw new Error(`image is ${width}×${height}; the page takes sides up to ${MAX_SIDE}`);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('no 2D canvas context');
    ctx.drawImage(bitmap, 0, 0);
    return { data: ctx.getImageData(0, 0, width, height).data, width, height };
  } finally {
    bitmap.close();
  }
}

/** Fetches and decodes an image URL. */
export async function fetchImage(url: string): Promise<Rgba> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return decodeImage(await res.blob());
}

/** Paints a planar [0,1] image on a canvas, resizing the canvas to the image; with `alphaFrom` (RGBA) keeping its alpha. */
export function paint(canvas: HTMLCanvasElement, image: Planar, alphaFrom?: ArrayLike<number>): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  const pixels = new ImageData(image.width, image.height);
  planarToRgba(image, pixels.data, alphaFrom);
  ctx.putImageData(pixels, 0, 0);
}
