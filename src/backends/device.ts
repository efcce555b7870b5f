/** The device a job asks for, and the order in which runtimes are tried for it. */
export const DEVICES = Object.freeze(['auto', 'cpu', 'cuda'] as const);
export type Device = (typeof DEVICES)[number];
