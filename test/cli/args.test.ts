/** The shared argument parser of every command (cli/args.ts): what it accepts and how it says no. */
import { expect } from 'chai';
import { HelpRequest, parseCommandArgs, UsageError, type ArgsSpec, type OptionSpec } from '../../cli/args.ts';

const spec: ArgsSpec<Record<string, OptionSpec>> = {
  options: { branch: { type: 'string', short: 'b' }, watch: { type: 'boolean', short: 'w' }, status: { type: 'string', multiple: true } },
  positionals: { names: ['PIPELINE', 'BUILD'], required: 1 },
};

describe('parseCommandArgs', () => {
  const ok: Array<{ args: string[]; values: Record<string, unknown>; positionals: string[] }> = [
    { args: ['p'], values: {}, positionals: ['p'] },
    { args: ['p', '12', '-w', '--branch=main'], values: { watch: true, branch: 'main' }, positionals: ['p', '12'] },
    { args: ['-b', 'x', 'p', '--status', 'failed', '--status', 'canceled'], values: { branch: 'x', status: ['failed', 'canceled'] }, positionals: ['p'] },
    { args: ['--', '-p-'], values: {}, positionals: ['-p-'] },
    { args: ['-'], values: {}, positionals: ['-'] },
  ];
  ok.forEach((c) => it(`parses ${c.args.join(' ')}`, () => expect(parseCommandArgs(c.args, spec)).to.deep.equal({ values: c.values, positionals: c.positionals })));

  const bad: Array<{ args: string[]; message: string }> = [
    { args: ['p', '--frob'], message: "unknown option '--frob'" },
    { args: ['p', '-x'], message: "unknown option '-x'" },
    { args: ['p', '--branch'], message: "option '--branch' needs a value" },
    { args: ['p', '--watch=yes'], message: "option '--watch' takes no value" },
    { args: [], message: 'missing PIPELINE' },
    { args: ['p', '1', 'extra'], message: "unexpected argument 'extra'" },
  ];
  bad.forEach((c) =>
    it(`refuses ${c.args.join(' ') || '(nothing)'}: ${c.message}`, () => {
      expect(() => parseCommandArgs(c.args, spec))
        .to.throw(UsageError)
        .with.property('message', c.message);
    }),
  );

  it('asks for help on -h or --help, even beside a mistake', () => {
    for (const args of [['--help'], ['p', '-h'], ['--frob', '--help']]) expect(() => parseCommandArgs(args, spec), args.join(' ')).to.throw(HelpRequest);
  });
});
