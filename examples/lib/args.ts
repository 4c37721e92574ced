// A tiny --flag value parser for the examples, with --help.

export interface Flag {
  name: string;
  help: string;
  default: string;
}

/** Parses `--name value` / `--name=value` pairs; prints help and exits on --help. */
export function parseArgs(usage: string, flags: Flag[], argv = process.argv.slice(2)): Record<string, string> {
  const out: Record<string, string> = Object.fromEntries(flags.map((f) => [f.name, f.default]));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(`${usage}\n\nOptions:`);
      for (const f of flags) console.log(`  --${f.name.padEnd(12)} ${f.help} (default: ${f.default || 'none'})`);
      process.exit(0);
    }
    const m = /^--([\w-]+)(?:=(.*))?$/.exec(a);
    const flag = m && flags.find((f) => f.name === m[1]);
    if (!m || !flag) {
      console.error(`unknown argument ${a}; see --help`);
      process.exit(2);
    }
    out[flag.name] = m[2] ?? argv[++i] ?? '';
  }
  return out;
}

/** A positive number flag, or an exit with a message naming the flag. */
export function numberFlag(args: Record<string, string>, name: string, integer = false): number {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    console.error(`--${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'}, got '${args[name]}'`);
    process.exit(2);
  }
  return v;
}
