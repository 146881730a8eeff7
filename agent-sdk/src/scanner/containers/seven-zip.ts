import SevenZip, { type SevenZipModule } from '7z-wasm';
import { ContainerError, type Member, type UnpackBudget } from '../types.ts';

/**
 * 7z and RAR (4 and 5) through 7-Zip compiled to WebAssembly: list first (`l -slt`) and check every declared size
 * against the budget, then extract into the module's in-memory file system and check each member came out at its
 * declared size. One module instance is reused (calls are synchronous, so never concurrent); a failed run discards it.
 */

let instance: Promise<{ module: SevenZipModule; output: string[] }> | undefined;

function sevenZip(): Promise<{ module: SevenZipModule; output: string[] }> {
  instance ??= (async () => {
    const output: string[] = [];
    const module = await SevenZip({ print: (line: string) => output.push(line), printErr: (line: string) => output.push(line) });
    return { module, output };
  })();
  return instance;
}

interface Listed {
  path: string;
  size: number;
  packed: number | undefined;
  encrypted: boolean;
}

function parseListing(lines: string[]): Listed[] {
  const start = lines.indexOf('----------');
  const entries: Listed[] = [];
  let current: Record<string, string> = {};
  const flush = () => {
    if (current.Path !== undefined && current.Folder !== '+' && !(current.Attributes ?? '').startsWith('D')) {
      entries.push({
        path: current.Path,
        size: Number(current.Size ?? 0),
        packed: current['Packed Size'] ? Number(current['Packed Size']) : undefined,
        encrypted: current.Encrypted === '+',
      });
    }
    current = {};
  };
  for (const line of lines.slice(start + 1)) {
    if (line === '') flush();
    const eq = line.indexOf(' = ');
    if (eq > 0) current[line.slice(0, eq)] = line.slice(eq + 3);
  }
  flush();
  return entries;
}

function run(module: SevenZipModule, output: string[], args: string[]): { code: number; lines: string[] } {
  output.length = 0;
  let code: number;
  try {
    code = (module.callMain(args) as unknown as number) ?? 0;
  } catch (err) {
    instance = undefined;
    throw new ContainerError('corrupt', `7-Zip failed: ${String((err as Error)?.message ?? err)}`, undefined, { cause: err });
  }
  return { code, lines: [...output] };
}

export async function readSevenZipOrRar(data: Uint8Array, budget: UnpackBudget, format: '7z' | 'rar'): Promise<Member[]> {
  const { module, output } = await sevenZip();
  const { FS } = module;
  const dir = `/scan${Math.random().toString(36).slice(2)}`;
  FS.mkdir(dir);
  try {
    const file = FS.open(`${dir}/archive`, 'w+');
    FS.write(file, data, 0, data.length);
    FS.close(file);
    // -p- gives a password, so 7-Zip never waits for one on standard input.
    const listing = run(module, output, ['l', '-slt', '-p-', `${dir}/archive`]);
    if (listing.lines.some((l) => /encrypted archive|Wrong password/i.test(l))) {
      return [{ name: '(headers)', data: new Uint8Array(0), encrypted: true }];
    }
    if (listing.code !== 0) throw new ContainerError('corrupt', `${format}: ${listing.lines.filter((l) => /ERROR/.test(l)).join('; ') || 'cannot list'}`);
    const entries = parseListing(listing.lines);
    check(entries, data.length, budget, format);
    const members: Member[] = entries.filter((e) => e.encrypted).map((e) => ({ name: e.path, data: new Uint8Array(0), encrypted: true }));
    const plain = entries.filter((e) => !e.encrypted);
    if (plain.length === 0) return members;
    run(module, output, ['x', '-p-', '-y', '-snl-', `-o${dir}/out`, `${dir}/archive`, ...plain.map((e) => e.path)]);
    for (const entry of plain) {
      let content: Uint8Array;
      try {
        content = FS.readFile(`${dir}/out/${entry.path}`) as Uint8Array;
      } catch {
        throw new ContainerError('corrupt', `${format} member ${entry.path} could not be extracted`);
      }
      if (content.length !== entry.size) throw new ContainerError('corrupt', `${format} member ${entry.path} is not its declared size`);
      members.push({ name: entry.path, data: new Uint8Array(content) });
    }
    budget.remainingEntries -= entries.length;
    budget.remainingBytes -= plain.reduce((n, e) => n + e.size, 0);
    return members;
  } finally {
    removeTree(module, dir);
  }
}

function check(entries: Listed[], archiveBytes: number, budget: UnpackBudget, format: string): void {
  if (entries.length > budget.remainingEntries) throw new ContainerError('limit', `${format} has ${entries.length} members`, 'entries');
  let total = 0;
  for (const e of entries) {
    if (e.size > budget.maxMemberBytes) throw new ContainerError('limit', `${format} member ${e.path} is ${e.size} bytes`, 'objectSize');
    if (e.packed && e.size / e.packed > budget.maxCompressionRatio) {
      throw new ContainerError('limit', `${format} member ${e.path} expands ${Math.round(e.size / e.packed)}x`, 'compressionRatio');
    }
    total += e.size;
  }
  if (total > budget.remainingBytes) throw new ContainerError('limit', `${format} members exceed the total size limit`, 'totalSize');
  if (archiveBytes > 0 && total / archiveBytes > budget.maxCompressionRatio) {
    throw new ContainerError('limit', `${format} expands ${Math.round(total / archiveBytes)}x`, 'compressionRatio');
  }
}

function removeTree(module: SevenZipModule, path: string): void {
  const { FS } = module;
  try {
    const stat = FS.lstat(path);
    if (FS.isDir(stat.mode)) {
      for (const name of FS.readdir(path)) if (name !== '.' && name !== '..') removeTree(module, `${path}/${name}`);
      FS.rmdir(path);
    } else FS.unlink(path);
  } catch {
    instance = undefined;
  }
}
