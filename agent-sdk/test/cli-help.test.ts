import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditSettings } from '../src/audit/settings.ts';
import { COMMAND_HELP, CONFIG_FIELDS } from '../src/cli/help.ts';
import { WebhookConfig } from '../src/config.ts';
import { main } from '../src/cli/main.ts';
import { cli } from './support/cli.ts';

/** `main` in this process, with what it writes captured. */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}
afterEach(() => vi.restoreAllMocks());

const COMMANDS = Object.keys(COMMAND_HELP);

describe('palisade-agent help', () => {
  it('-h, --help and help print the overview naming every command, exit 0', async () => {
    for (const args of [['-h'], ['--help'], ['help'], ['bundle', '--help'], ['help', 'trust']]) {
      const out = await run(...args);
      expect(out, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      for (const name of COMMANDS) expect(out.stdout).toContain(`  ${name} `);
      expect(out.stdout).toContain('Exit codes:');
    }
  });

  it.each(COMMANDS)('%s --help, -h and help %s print its usage, options and configuration fields, exit 0', async (name) => {
    const words = name.split(' ');
    for (const args of [[...words, '--help'], [...words, '-h'], ['help', ...words], [...words, '--config', 'x.json', '--help']]) {
      const out = await run(...args);
      expect(out, args.join(' ')).toMatchObject({ code: 0, stderr: '' });
      expect(out.stdout).toContain(`Usage: palisade-agent ${name}`);
      expect(out.stdout).toContain('Options:');
      if (COMMAND_HELP[name]!.includes('--config FILE   the agent')) expect(out.stdout).toMatch(/credentialFile .*\n.*trustFile .*\n.*stateDir /);
    }
  });

  it.each(COMMANDS)('every option the help of %s names is one the command accepts', async (name) => {
    const options = [...new Set(COMMAND_HELP[name]!.match(/--[a-z-]+/g))].filter((o) => o !== '--help');
    expect(options.length).toBeGreaterThan(0);
    for (const option of options) {
      // Missing companions or files then fail the command, but never as an unknown option.
      const out = await run(...name.split(' '), option, 'nonexistent-value');
      expect(out.stderr, option).not.toMatch(/Unknown option/);
    }
    expect((await run(...name.split(' '), '--not-an-option')).stderr).toMatch(/Unknown option '--not-an-option'/);
  });

  it('a usage error names the command\'s usage and where its help is, exit 2', async () => {
    const out = await run('bundle', 'pull');
    expect(out.code).toBe(2);
    expect(out.stderr).toBe('palisade-agent: --config is required\n\nUsage: palisade-agent bundle pull --config FILE [--json]\nRun palisade-agent bundle pull --help for the options.\n');
  });

  it('help for an unknown command is a usage error; `--` ends the options of evaluate', async () => {
    expect((await run('help', 'frobnicate')).code).toBe(2);
    const out = await run('evaluate', '--bundle', 'missing.json', '--insecure-unsigned', '--', '-h');
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/-h: no such file/);
  });

  it('works through the real binary (npx palisade-agent)', { timeout: 120_000 }, async () => {
    const [top, pull, evaluate] = await Promise.all([cli('-h'), cli('bundle', 'pull', '--help'), cli('evaluate', '--help')]);
    expect(top).toMatchObject({ code: 0, stderr: '' });
    expect(top.stdout).toContain('Run palisade-agent COMMAND --help');
    expect(pull).toMatchObject({ code: 0, stderr: '' });
    expect(pull.stdout).toContain('Usage: palisade-agent bundle pull --config FILE [--json]');
    expect(evaluate).toMatchObject({ code: 0, stderr: '' });
    expect(evaluate.stdout).toContain('--insecure-unsigned');
  });
});

/** The `name (default)` pairs the configuration help gives under `section`, as values (sizes in bytes). */
function helpDefaults(section: 'webhook' | 'audit'): Record<string, unknown> {
  const block = CONFIG_FIELDS.split(/\n  (?=\w)/).find((b) => b.startsWith(section))!;
  const value = (text: string) => {
    const size = /^(\d+) (KiB|MiB)$/.exec(text);
    if (size) return Number(size[1]) * (size[2] === 'KiB' ? 1024 : 1024 * 1024);
    return /^\d+$/.test(text) ? Number(text) : text === 'true' || text === 'false' ? text === 'true' : text;
  };
  // Only single values: choices (`closed | open`), computed places (`<stateDir>/...`) and descriptions are not defaults.
  return Object.fromEntries([...block.matchAll(/(\w+) \(([^)]+)\)/g)].filter(([, , v]) => /^(\d+ (KiB|MiB)|[\w.]+)$/.test(v!)).map(([, k, v]) => [k, value(v!)]));
}

describe('the configuration help', () => {
  it('states the settings\' own defaults (the schemas are their one origin)', () => {
    const webhook = helpDefaults('webhook');
    const audit = helpDefaults('audit');
    expect(Object.keys(webhook).length).toBeGreaterThanOrEqual(7);
    expect(Object.keys(audit).length).toBeGreaterThanOrEqual(9);
    const webhookDefaults: Record<string, unknown> = WebhookConfig.parse({ certFile: 'tls.crt', keyFile: 'tls.key', allowUnauthenticated: true });
    const auditDefaults: Record<string, unknown> = AuditSettings.parse({});
    for (const [key, shown] of Object.entries(webhook)) expect(webhookDefaults[key], `webhook.${key}`).toEqual(shown);
    for (const [key, shown] of Object.entries(audit)) expect(auditDefaults[key], `audit.${key}`).toEqual(shown);
  });
});
