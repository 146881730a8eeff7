import { BundleVerificationError } from '../bundle/errors.ts';
import { ControlPlaneError } from '../bundle/http.ts';
import { AgentFileError } from '../node/agent-file.ts';
import { AGENT_VERSION } from '../version.ts';
import { EXIT, USAGE, UsageError } from './args.ts';
import { COMMAND_HELP, commandHelp } from './help.ts';

/**
 * Each command's module is loaded when that command runs: one process runs one command, and the others' imports (the
 * Kubernetes client for `node`, the archive decoders for `scan`, Sigstore for `run`) would otherwise be paid on every
 * start, `evaluate` included.
 */
const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  enroll: async (args) => (await import('./enroll.ts')).enrollCommand(args),
  'bundle pull': async (args) => (await import('./bundle.ts')).pullCommand(args),
  'bundle verify': async (args) => (await import('./bundle.ts')).verifyCommand(args),
  'trust refresh': async (args) => (await import('./trust.ts')).trustRefreshCommand(args),
  'credential rotate': async (args) => (await import('./credential.ts')).credentialRotateCommand(args),
  run: async (args) => (await import('./run.ts')).runCommand(args),
  node: async (args) => (await import('./node.ts')).nodeCommand(args),
  evaluate: async (args) => (await import('./evaluate.ts')).evaluateCommand(args),
  scan: async (args) => (await import('./scan.ts')).scanCommand(args),
};
/** Commands in two words. */
const GROUPS = ['bundle', 'trust', 'credential'];

const HELP_FLAGS = ['-h', '--help'];

/** Whether the arguments ask for help (before a `--`, after which everything is an input). */
function asksForHelp(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => HELP_FLAGS.includes(a));
}

/** Runs `palisade-agent` with the given arguments; resolves to the exit code. Messages go to stdout and stderr. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version') {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return EXIT.ok;
  }
  // `help`, `help COMMAND`, `-h`, `--help`
  const helpArgs = argv[0] === 'help' ? argv.slice(1) : HELP_FLAGS.includes(argv[0] ?? '') ? [] : undefined;
  const words = helpArgs ?? argv;
  const name = commandName(words);
  // Help without a command, or for a group (`bundle --help`, `help bundle`): the overview.
  const group = GROUPS.includes(words[0] ?? '') && (words.length === 1 || HELP_FLAGS.includes(words[1] ?? ''));
  if ((helpArgs !== undefined && (words.length === 0 || group)) || (group && asksForHelp(words))) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  try {
    if (command === undefined) throw new UsageError(argv.length === 0 ? 'no command given' : `unknown command "${name.trim()}"`);
    const args = words.slice(name.split(' ').length);
    if (helpArgs !== undefined || asksForHelp(args)) {
      process.stdout.write(`${commandHelp(name)}\n`);
      return EXIT.ok;
    }
    return await command(args);
  } catch (err) {
    return failure(err, name);
  }
}

/** The command the arguments name: one word, or two for the groups. */
function commandName(args: string[]): string {
  return GROUPS.includes(args[0] ?? '') ? `${args[0]} ${args[1] ?? ''}` : (args[0] ?? '');
}

/** One line on stderr naming the problem, and the exit code for its kind. */
function failure(err: unknown, name: string): number {
  const [message, code] = classify(err, name);
  process.stderr.write(`palisade-agent: ${message}\n`);
  return code;
}

function classify(err: unknown, name: string): [string, number] {
  if (err instanceof UsageError) {
    const usage = COMMAND_HELP[name] ? `${COMMAND_HELP[name].split('\n')[0]}\nRun palisade-agent ${name} --help for the options.` : USAGE;
    return [`${err.message}\n\n${usage}`, EXIT.usage];
  }
  if (err instanceof AgentFileError) return [err.message, EXIT.usage];
  if (err instanceof BundleVerificationError) return [`bundle rejected (${err.code}): ${err.message}`, EXIT.rejected];
  if (err instanceof ControlPlaneError) return [`control plane: ${err.message}`, EXIT.unavailable];
  return [`unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`, 1];
}
