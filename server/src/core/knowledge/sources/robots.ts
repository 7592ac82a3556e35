import { fetchUrl, type FetchLimits } from '../fetch-url.ts';

/** The name robots.txt rules address us by. */
const ROBOTS_AGENT = 'EnclaveBot';

/** The site's robots.txt rules for us, fetched under the URL-import rules; none readable: everything allowed. */
export async function fetchRobots(origin: string, limits: FetchLimits): Promise<(path: string) => boolean> {
  try {
    const file = await fetchUrl(`${origin}/robots.txt`, limits);
    return robotsRules(file.bytes.toString('utf8'), ROBOTS_AGENT);
  } catch {
    return () => true;
  }
}

/**
 * robots.txt as crawlers read it: the group for our user agent (or `*`), its Allow and Disallow
 * path prefixes, the longest match deciding (Allow wins a tie). No file, or one we cannot read:
 * everything is allowed.
 */
function robotsRules(text: string, agent: string): (path: string) => boolean {
  const groups: { agents: string[]; rules: { allow: boolean; prefix: string }[] }[] = [];
  let current: (typeof groups)[number] | undefined;
  let inAgents = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*/, '').trim();
    const match = /^([a-z-]+)\s*:\s*(.*)$/i.exec(line);
    if (!match) continue;
    const field = match[1]!.toLowerCase();
    const value = match[2]!.trim();
    if (field === 'user-agent') {
      if (!current || !inAgents) {
        current = { agents: [], rules: [] };
        groups.push(current);
      }
      current.agents.push(value.toLowerCase());
      inAgents = true;
    } else if ((field === 'allow' || field === 'disallow') && current) {
      inAgents = false;
      // An empty Disallow allows everything.
      if (value) current.rules.push({ allow: field === 'allow', prefix: value });
    }
  }
  const name = agent.toLowerCase();
  const group =
    groups.find((g) => g.agents.some((a) => a !== '*' && name.includes(a))) ??
    groups.find((g) => g.agents.includes('*'));
  const rules = group?.rules ?? [];
  return (path) => {
    let best: { allow: boolean; prefix: string } | undefined;
    for (const rule of rules) {
      if (!path.startsWith(rule.prefix)) continue;
      if (!best || rule.prefix.length > best.prefix.length || (rule.prefix.length === best.prefix.length && rule.allow))
        best = rule;
    }
    return best?.allow ?? true;
  };
}
