import { readlinkSync } from 'node:fs';

/**
 * Kills a process from user space, after the fact: only when `/proc/<pid>/exe` still names the program the event was
 * about (a pid can be reused between the event and the kill). Needs the host's pid namespace and CAP_KILL (the
 * DaemonSet's `hostPID: true`). `procRoot` is for tests. Node only.
 */
export function killIfSame(pid: number, binary: string, procRoot = '/proc', signal: (pid: number) => void = (p) => process.kill(p, 'SIGKILL')): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  let exe: string;
  try {
    exe = readlinkSync(`${procRoot}/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return false;
  }
  // The link reads as the path inside the process's mount namespace, as sensors report it (Falco may give a name only).
  if (binary.includes('/') ? exe !== binary : exe.slice(exe.lastIndexOf('/') + 1) !== binary) return false;
  try {
    signal(pid);
    return true;
  } catch {
    return false;
  }
}
