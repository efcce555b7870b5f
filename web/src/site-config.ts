/**
 * The files the Node side writes for the page: `config.json` (which model to load) and
 * `samples/index.json` (the generated sample images). Types only, shared by both sides.
 */

/** `config.json` at the site root. */
export interface SiteConfig {
  /** The model loaded at start (a URL relative to the page), or null to wait for a dropped one. */
  model: { url: string; name: string; bytes: number } | null;
  /** The denoisers shipped with onnxtune that the page offers to load (absent: none offered). */
  shipped?: ShippedModelEntry[];
  /** onnxtune's version that wrote the site. */
  onnxtune: string;
  /** onnxruntime-web's version whose wasm files sit under ort/. */
  ortWeb: string;
}

/** A shipped denoiser the page can load (from its model card). */
export interface ShippedModelEntry {
  name: string;
  /** URL relative to the page. */
  url: string;
  /** "blind Gaussian gray denoiser: …" */
  summary: string;
  bytes: number;
}

/** One entry of `samples/index.json`. */
export interface SampleEntry {
  id: string;
  /** What the select shows. */
  label: string;
  /** URL relative to the page. */
  url: string;
  width: number;
  height: number;
}

export const SITE_CONFIG_FILE = 'config.json';
export const SAMPLES_INDEX_FILE = 'samples/index.json';
export const MODEL_DIR = 'model';
export const SHIPPED_DIR = 'shipped';
export const ORT_DIR = 'ort';
