import { rotateCredential } from '../enroll.ts';
import { loadAgentFiles } from '../node/agent-files.ts';
import { AgentFileError } from '../node/agent-file.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { EXIT, parse, required } from './args.ts';

/**
 * `palisade-agent credential rotate --config FILE`: asks for a new credential and replaces the credential file with it
 * atomically. The old credential keeps working until the time printed, so a running agent has that long to restart.
 */
export async function credentialRotateCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' } });
  const { config, credential, credentialFile } = await loadAgentFiles(required(values, 'config'));
  const rotated = await rotateCredential({ url: config.url, credential });
  try {
    await writeFileAtomic(credentialFile, rotated.credential + '\n', 0o600);
  } catch (cause) {
    const problem = `cannot store the new credential (${(cause as Error).message}); the old one works until ${rotated.previousCredentialExpiresAt}: fix and run again`;
    throw new AgentFileError(credentialFile, problem, { cause });
  }
  process.stdout.write(`credential rotated: ${credentialFile}\nthe previous credential works until ${rotated.previousCredentialExpiresAt}; restart running agents before then\n`);
  return EXIT.ok;
}
