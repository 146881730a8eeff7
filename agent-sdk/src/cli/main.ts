import { BundleVerificationError } from '../bundle/errors.ts';
import { ControlPlaneError } from '../bundle/http.ts';
import { AgentFileError } from '../node/agent-files.ts';
import { AGENT_VERSION } from '../version.ts';
import { EXIT, USAGE, UsageError } from './args.ts';
import { pullCommand, verifyCommand } from './bundle.ts';
import { credentialRotateCommand } from './credential.ts';
import { enrollCommand } from './enroll.ts';
import { evaluateCommand } from './evaluate.ts';
import { runCommand } from './run.ts';
import { trustRefreshCommand } from './trust.ts';

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  enroll: enrollCommand,
  'bundle pull': pullCommand,
  'bundle verify': verifyCommand,
  'trust refresh': trustRefreshCommand,
  'credential rotate': credentialRotateCommand,
  run: runCommand,
  evaluate: evaluateCommand,
};
/** Commands in two words. */
const GROUPS = ['bundle', 'trust', 'credential'];

/** Runs `palisade-agent` with the given arguments; resolves to the exit code. Messages go to stdout and stderr. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version') {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return EXIT.ok;
  }
  if (argv[0] === '--help' || argv[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const name = GROUPS.includes(argv[0] ?? '') ? `${argv[0]} ${argv[1] ?? ''}` : (argv[0] ?? '');
  const command = COMMANDS[name];
  try {
    if (command === undefined) throw new UsageError(argv.length === 0 ? 'no command given' : `unknown command "${name.trim()}"`);
    return await command(argv.slice(name.split(' ').length));
  } catch (err) {
    return failure(err);
  }
}

/** One line on stderr naming the problem, and the exit code for its kind. */
function failure(err: unknown): number {
  const [message, code] = classify(err);
  process.stderr.write(`palisade-agent: ${message}\n`);
  return code;
}

function classify(err: unknown): [string, number] {
  if (err instanceof UsageError) return [`${err.message}\n\n${USAGE}`, EXIT.usage];
  if (err instanceof AgentFileError) return [err.message, EXIT.usage];
  if (err instanceof BundleVerificationError) return [`bundle rejected (${err.code}): ${err.message}`, EXIT.rejected];
  if (err instanceof ControlPlaneError) return [`control plane: ${err.message}`, EXIT.unavailable];
  return [`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1];
}
