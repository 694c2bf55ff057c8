import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { IsOptional, IsString, registerDecorator, type ValidationOptions } from 'class-validator';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AssertionMade, AssertionRetracted, compiledCheckOf, validated, validatedByClassValidator, ValidationFailedError } from '../src/domain/events.js';
import { inputsOf, type Shape } from './validation/inputs.js';
import { ProbeDerived } from './validation/probeClasses.js';

/**
 * The differential test of the validation compiler: on property-based
 * inputs, `validated` (compiled check, class-validator for what it does
 * not accept) and `validatedByClassValidator` (validateSync on every input,
 * as before) give the same result, and the compiled check alone says valid
 * exactly when class-validator does.
 */

const RUNS = Number(process.env.DIFFERENTIAL_RUNS ?? 100_000);

type Outcome = { accepted: Record<string, unknown>; proto: object | null } | { refused: string; failures: unknown };

function outcome(f: () => object): Outcome {
  try {
    const value = f();
    return { accepted: { ...value }, proto: Object.getPrototypeOf(value) as object | null };
  } catch (err) {
    if (!(err instanceof ValidationFailedError)) throw err;
    return { refused: err.message, failures: err.failures };
  }
}

const ASSERTION: Shape = {
  id: { kind: 'id', max: 128 },
  subject: { kind: 'text', max: 512 },
  predicate: { kind: 'text', max: 256 },
  object: { kind: 'text', max: 2048 },
  confidence: { kind: 'unit' },
  source: { kind: 'text', max: 256 },
  assertedAt: { kind: 'date' },
};
const RETRACTION: Shape = { assertionId: { kind: 'id', max: 128 }, reason: { kind: 'text', max: 1024 }, retractedAt: { kind: 'date' } };
const PROBE: Shape = {
  tag: { kind: 'defined' },
  code: { kind: 'text', min: 3, max: 16 },
  level: { kind: 'int', min: -5, max: 5 },
  note: { kind: 'text', max: 64 },
  free: { kind: 'anything' },
};

const hasObjectPrototypeName = (input: object): boolean => Object.keys(input).some((k) => k in Object.prototype);

describe.each([
  ['AssertionMade', AssertionMade, ASSERTION],
  ['AssertionRetracted', AssertionRetracted, RETRACTION],
  ['ProbeDerived (inherited decorators, IsDefined, IsInt, MinLength, Allow)', ProbeDerived, PROBE],
] as [string, new () => object, Shape][])('the compiled check of %s agrees with class-validator', (_, cls, shape) => {
  it(`on ${RUNS.toLocaleString('en-US')} inputs: the same instance or the same refusal, and no disagreement of the check itself`, () => {
    const c = compiledCheckOf(cls);
    expect(c).toHaveProperty('check');
    const check = (c as { check: (plain: Record<string, unknown>) => boolean }).check;
    const seen = { accepted: 0, refused: 0 };
    // most inputs are refused twice (once per side): their errors' stack traces were a fifth of the run, and are not compared
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    onTestFinished(() => void (Error.stackTraceLimit = stackTraceLimit));
    fc.assert(
      fc.property(inputsOf(shape), (input) => {
        const reference = outcome(() => validatedByClassValidator(cls, input, 'input'));
        const fast = outcome(() => validated(cls, input, 'input'));
        // expect's deep equality costs more than the rest of a case: it only runs to report a difference
        if (!isDeepStrictEqual(fast, reference)) expect(fast).toEqual(reference);
        // the check's own domain: validated refuses Object.prototype's names before it
        if (!hasObjectPrototypeName(input) && check(input) !== 'accepted' in reference) expect(check(input)).toBe('accepted' in reference);
        seen['accepted' in reference ? 'accepted' : 'refused']++;
      }),
      { numRuns: RUNS },
    );
    // both sides of the line were tried, plenty of each
    expect(seen.accepted).toBeGreaterThan(RUNS / 20);
    expect(seen.refused).toBeGreaterThan(RUNS / 4);
  });
});

/** A decorator the compiler has never heard of: an even integer. */
function IsEven(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({ name: 'isEvenNumber', target: target.constructor, propertyName: propertyName as string, options, validator: { validate: (v: unknown) => typeof v === 'number' && v % 2 === 0, defaultMessage: () => '$property must be even' } });
}

/** A custom decorator registered under a built-in's name, checking something else. */
function LooseString(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({ name: 'isString', target: target.constructor, propertyName: propertyName as string, options, validator: { validate: (v: unknown) => v !== null, defaultMessage: () => '$property must not be null' } });
}

class WithUnknownDecorator {
  @IsString()
  name!: string;

  @IsEven()
  count!: number;
}

class WithImpostor {
  @LooseString()
  name!: string;
}

class WithOptional {
  @IsOptional() @IsString()
  name?: string;
}

class Undecorated {
  name!: string;
}

describe('classes the compiler does not know fall back to class-validator, never to a weaker check', () => {
  it('an unknown decorator: the class is not compiled, and class-validator decides every input', () => {
    expect(compiledCheckOf(WithUnknownDecorator)).toEqual({ fallback: 'count: the decorator isEvenNumber is not one the compiler knows' });
    expect(validated(WithUnknownDecorator, { name: 'a', count: 2 }, 'thing')).toEqual(Object.assign(new WithUnknownDecorator(), { name: 'a', count: 2 }));
    expect(() => validated(WithUnknownDecorator, { name: 'a', count: 3 }, 'thing')).toThrow('invalid thing: count must be even');
  });

  it("a custom decorator under a built-in's name is caught by the probe values, and falls back", () => {
    expect(compiledCheckOf(WithImpostor)).toEqual({ fallback: "name: isString is registered by a validator that does not behave as class-validator's isString" });
    // its own rule, not the built-in's: a number is accepted, null is not
    expect(validated(WithImpostor, { name: 42 }, 'thing')).toEqual(Object.assign(new WithImpostor(), { name: 42 }));
    expect(() => validated(WithImpostor, { name: null }, 'thing')).toThrow('invalid thing: name must not be null');
  });

  it('a conditional decorator (IsOptional) and a class without decorators fall back', () => {
    expect(compiledCheckOf(WithOptional)).toEqual({ fallback: 'name: a conditionalValidation decorator is not compiled' });
    expect(validated(WithOptional, {}, 'thing')).toEqual(new WithOptional());
    expect(() => validated(WithOptional, { name: 1 }, 'thing')).toThrow('invalid thing: name must be a string');
    expect(compiledCheckOf(Undecorated)).toEqual({ fallback: 'the class has no decorators (class-validator refuses it as an unknown value)' });
    // class-validator refuses an instance of a class it has no metadata for (forbidUnknownValues)
    expect(() => validated(Undecorated, { name: 'a' }, 'thing')).toThrow(ValidationFailedError);
    expect(outcome(() => validated(Undecorated, { name: 'a' }, 'thing'))).toEqual(outcome(() => validatedByClassValidator(Undecorated, { name: 'a' }, 'thing')));
  });
});
