// Reading the files the agent is given, with errors that name them. No schemas here: the commands that only read a
// file (evaluate's inputs and unsigned bundles) load no configuration schema at all.
import { readFile } from 'node:fs/promises';

/**
 * A configuration, credential or trust file that is missing or unusable. The message names the file.
 *
 * @example
 * ```ts
 * try {
 *   await loadAgentFiles(path);
 * } catch (err) {
 *   if (err instanceof AgentFileError) console.error(err.message); // "/etc/palisade/config.json: no such file"
 * }
 * ```
 */
export class AgentFileError extends Error {
  override readonly name = 'AgentFileError';
  constructor(readonly file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
  }
}

/** Reads a file, turning "missing" and "unreadable" into an `AgentFileError` naming it. */
export async function readAgentFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AgentFileError(file, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`, { cause: err });
  }
}

export async function readJsonFile(file: string): Promise<unknown> {
  const text = await readAgentFile(file);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AgentFileError(file, `not JSON (${(err as Error).message})`, { cause: err });
  }
}
