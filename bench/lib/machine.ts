import os from 'node:os';

/** One line naming the machine a figure came from: cores, memory, CPU, kernel, Node. */
export function machineFacts(): string {
  const cpus = os.cpus();
  const gib = (os.totalmem() / 2 ** 30).toFixed(1);
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  return (
    `Run ${when} UTC on ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ` +
    `${gib} GiB memory, Linux ${os.release()}, Node ${process.version}, loopback only.`
  );
}

export const CORES = os.cpus().length;
