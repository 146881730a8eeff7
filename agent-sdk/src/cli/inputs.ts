import { AgentFileError, readAgentFile } from '../node/agent-file.ts';
import { EVALUATED_OPERATIONS, isAdmissionReview, MalformedReviewError, parseAdmissionReview } from '../webhook/review.ts';
import { UsageError } from './args.ts';

/** One object to evaluate, with where it came from (`pod.yaml#0`: the first object of pod.yaml). */
export interface InputObject {
  source: string;
  object: Record<string, unknown>;
  /** The request's namespace, for an AdmissionReview. */
  namespace?: string;
  /** The request's `userInfo.username`, for an AdmissionReview (trusted controllers' ownerReferences count). */
  requester?: string;
  /** Why it is allowed without evaluation (an AdmissionReview of a DELETE, ...). */
  skip?: string;
  /** The YAML document it came from (1-based), and where the object sits in it as a JSON Pointer (`/items/2`). */
  document?: number;
  at?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isList = (v: Record<string, unknown>) => typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items);

/** The objects of one document: itself, the items of a `kind: List`, or the object of an AdmissionReview. */
function objectsOf(value: Record<string, unknown>, where: string): Array<Omit<InputObject, 'source'>> {
  if (isList(value))
    return (value.items as unknown[]).map((item, i) => {
      if (!isRecord(item)) throw new Error(`${where}: item ${i} of the ${String(value.kind)} is not an object`);
      return { object: item, at: `/items/${i}` };
    });
  if (!isAdmissionReview(value)) return [{ object: value }];
  let request;
  try {
    request = parseAdmissionReview(value);
  } catch (err) {
    if (err instanceof MalformedReviewError) throw new Error(`${where}: not an AdmissionReview admission.k8s.io/v1 request: ${err.message}`);
    throw err;
  }
  const namespace = {
    ...(request.namespace ? { namespace: request.namespace } : {}),
    ...(typeof request.userInfo?.username === 'string' ? { requester: request.userInfo.username } : {}),
  };
  if (EVALUATED_OPERATIONS.includes(request.operation)) return [{ object: request.object as Record<string, unknown>, at: '/request/object', ...namespace }];
  const stub = { kind: request.kind?.kind ?? 'Unknown', metadata: { name: request.name ?? '', ...(request.namespace ? { namespace: request.namespace } : {}) } };
  return [{ object: isRecord(request.oldObject) ? request.oldObject : stub, ...namespace, skip: `operation ${request.operation} is not evaluated` }];
}

/** One JSON object, when the whole text is one; undefined for anything else (YAML, several documents, bad JSON). */
function asJsonObject(text: string): unknown[] | undefined {
  if (!/^\s*\{/.test(text)) return undefined;
  try {
    return [JSON.parse(text)];
  } catch {
    return undefined;
  }
}

/**
 * The documents of one input's text, as values. JSON is YAML, and a text that is one JSON object reads the same
 * through `JSON.parse` (duplicate keys: the last wins in both), which is what a JSON input gets: the YAML parser, and
 * the loading of its module, cost a one-pod `evaluate` about a tenth of its run.
 */
async function documentsOf(text: string, name: string): Promise<unknown[]> {
  const json = asJsonObject(text);
  if (json) return json;
  const yaml = await import('yaml');
  // In the build (esbuild), this CommonJS package arrives as the namespace's `default`.
  const { parseAllDocuments } = 'parseAllDocuments' in yaml ? yaml : (yaml as unknown as { default: typeof yaml }).default;
  const docs = parseAllDocuments(text, { uniqueKeys: false });
  return (Array.isArray(docs) ? docs : [docs]).map((doc, i) => {
    const error = doc.errors[0];
    if (error) throw new AgentFileError(name, `document ${i + 1}: not YAML or JSON: ${error.message.split('\n')[0]}`);
    return doc.toJS({ maxAliasCount: 100 });
  });
}

/**
 * The objects in one input's text: YAML or JSON, several documents, `kind: List` (or `PodList`, ...) flattened,
 * AdmissionReviews reduced to their request. Empty documents are skipped. Errors name the input and the document.
 */
export async function parseInput(text: string, name: string): Promise<InputObject[]> {
  const out: InputObject[] = [];
  for (const [i, value] of (await documentsOf(text, name)).entries()) {
    const where = `document ${i + 1}`;
    if (value === null || value === undefined) continue;
    if (!isRecord(value)) throw new AgentFileError(name, `${where}: not a Kubernetes object (a ${Array.isArray(value) ? 'list' : typeof value})`);
    if (typeof value.kind !== 'string') throw new AgentFileError(name, `${where}: has no "kind"`);
    try {
      for (const o of objectsOf(value, where)) out.push({ source: `${name}#${out.length}`, ...o, document: i + 1, at: o.at ?? '' });
    } catch (err) {
      throw new AgentFileError(name, (err as Error).message);
    }
  }
  return out;
}

/** Reads every INPUT (`-` is standard input, once) into objects to evaluate. An input with no object is an error. */
export async function readInputs(paths: string[], readStdin: () => Promise<string>): Promise<InputObject[]> {
  if (paths.length === 0) throw new UsageError('no INPUT given (a YAML or JSON file, or - for standard input)');
  if (paths.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  const out: InputObject[] = [];
  for (const path of paths) {
    const name = path === '-' ? 'stdin' : path;
    const objects = await parseInput(path === '-' ? await readStdin() : await readAgentFile(path), name);
    if (objects.length === 0) throw new AgentFileError(name, 'holds no Kubernetes object');
    out.push(...objects);
  }
  return out;
}

/** All of standard input, as UTF-8. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
