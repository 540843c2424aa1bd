// @ts-check
/** node:tty for a wrapped server: nothing is a terminal (colour libraries probe it); streams are unsupported. */
import { unsupported } from './unsupported.js';

/** @param {number} _fd */
export function isatty(_fd) { return false; }
export const ReadStream = unsupported('unsupported-api:node:tty.ReadStream');
export const WriteStream = unsupported('unsupported-api:node:tty.WriteStream');
export default { isatty, ReadStream, WriteStream };
