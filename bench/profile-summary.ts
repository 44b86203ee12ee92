/**
 * Summarises V8 CPU profiles (`npm run bench -- --profile <dir>` writes one per Herald process): where the
 * process spent its samples, by package or source folder and by function (self time). Usage:
 *   node --import tsx bench/profile-summary.ts <file.cpuprofile> [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

const { positionals, values } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
const top = Number(values.top);
const print = (line: string) => process.stdout.write(`${line}\n`);

/** Which part of the system a frame belongs to: a package, a folder of Herald's source, Node itself, or V8. */
function area(url: string, name: string): string {
  if (url === '') return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] ?? url;
  const own = /\/(src|dist)\/([^/]+)\//.exec(url);
  if (own) return `herald:${own[2]}`;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url;
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const total = profile.samples.length;
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, count] of hits) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = area(url, functionName);
    byArea.set(where, (byArea.get(where) ?? 0) + count);
    const key = `${functionName || '(anonymous)'} ${where}${url ? `:${lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  }
  const percent = (count: number) => `${((100 * count) / total).toFixed(1).padStart(5)} %`;
  const busy = total - (byArea.get('(idle)') ?? 0);
  print(`\n${file}: ${seconds.toFixed(1)} s, ${total} samples, busy ${percent(busy)} of one core`);
  print('  by area (self time)');
  for (const [name, count] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, top)) print(`  ${percent(count)}  ${name}`);
  print('  by function (self time)');
  for (const [name, count] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) print(`  ${percent(count)}  ${name}`);
}
