/**
 * resources/read: a static resource is served from the bytes loaded with its package; a URI matching
 * one of a package's templates runs that template's handler in the sandbox (kind 'resource').
 *
 * Threat: the URI is the client's, the handler's value the package's. A URI under a package's prefix
 * reaches only that package (registry.resolveUri), with the prefix stripped; the handler's value is
 * checked item by item and copied into fresh objects, MIME types and base64 checked, and the whole read
 * is capped (RESOURCE_TOO_LARGE) on top of the package's own output limit.
 */
import { ResourceNotFoundError } from '@modelcontextprotocol/server';
import type { ReadResourceResult } from '@modelcontextprotocol/server';
import { HostError } from '../../errors.ts';
import { MAX_RESOURCE_READ_BYTES, isTextMimeType } from '../../manifest-content.ts';
import type { LoadedResource } from '../load-content.ts';
import type { CallContext } from './call-context.ts';
import { featureError, runInSandbox } from './run.ts';
import type { FeatureDeps } from './run.ts';

type Contents = ReadResourceResult['contents'];

/** Contents a handler may return in one read. */
export const MAX_RESOURCE_CONTENTS = 64;
const MIME = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function bad(why: string): HostError {
  return new HostError('RESULT_INVALID', `the resource handler returned ${why}`);
}

/** A static resource's contents. */
export function staticContents(uri: string, r: LoadedResource): Contents {
  const mimeType = r.spec.mimeType;
  return isTextMimeType(mimeType) ? [{ uri, mimeType, text: r.data.toString('utf8') }] : [{ uri, mimeType, blob: r.data.toString('base64') }];
}

/**
 * A resource handler's value as contents: a string, { text, mimeType? }, { blob, mimeType? }, or an
 * array of those; the template's MIME type applies when an item has none.
 * @throws HostError RESULT_INVALID, RESOURCE_TOO_LARGE
 */
export function handlerContents(uri: string, value: unknown, defaultMime: string | undefined): Contents {
  const items = Array.isArray(value) ? value : [value];
  if (items.length > MAX_RESOURCE_CONTENTS) throw bad(`more than ${MAX_RESOURCE_CONTENTS} contents`);
  let total = 0;
  const out: Contents = [];
  for (const item of items as unknown[]) {
    let text: string | undefined;
    let blob: string | undefined;
    let mimeType = defaultMime;
    if (typeof item === 'string') text = item;
    else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const o = item as Record<string, unknown>;
      const keys = Object.keys(o);
      if (!keys.every((k) => k === 'text' || k === 'blob' || k === 'mimeType')) throw bad('a content with keys other than text, blob and mimeType');
      if (typeof o.text === 'string' && o.blob === undefined) text = o.text;
      else if (typeof o.blob === 'string' && o.text === undefined) {
        if (!BASE64.test(o.blob)) throw bad('a blob that is not base64');
        blob = o.blob;
      } else throw bad('a content without exactly one of text and blob (strings)');
      if (o.mimeType !== undefined) {
        if (typeof o.mimeType !== 'string' || !MIME.test(o.mimeType)) throw bad('an invalid mimeType');
        mimeType = o.mimeType;
      }
    } else throw bad('something other than text, { text }, { blob } or an array of them');
    total += text !== undefined ? Buffer.byteLength(text) : (blob as string).length;
    if (total > MAX_RESOURCE_READ_BYTES) throw new HostError('RESOURCE_TOO_LARGE', `the resource is larger than ${MAX_RESOURCE_READ_BYTES} bytes`);
    const base = mimeType !== undefined ? { uri, mimeType } : { uri };
    out.push(text !== undefined ? { ...base, text } : { ...base, blob: blob as string });
  }
  return out;
}

/** resources/read. @throws ProtocolError */
export async function readResource(deps: FeatureDeps, uri: string, call: CallContext): Promise<ReadResourceResult> {
  const hit = typeof uri === 'string' ? deps.registry.resolveUri(uri) : undefined;
  if (!hit) throw new ResourceNotFoundError(String(uri).slice(0, 1024), 'Resource not found');
  if ('resource' in hit) return { contents: staticContents(uri, hit.resource) };
  const { pkg, template, ownUri, variables } = hit;
  try {
    const contents = await runInSandbox(
      deps,
      {
        pkg,
        kind: 'resource',
        handler: template.spec.handler,
        input: { uri: ownUri, variables: { ...variables } },
        accept: (value) => handlerContents(uri, value, template.spec.mimeType),
      },
      call,
    );
    return { contents };
  } catch (e) {
    throw featureError(e, deps, 'resources/read');
  }
}
