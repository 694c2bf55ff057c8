import { getMetadataStorage, ValidationTypes, type ValidatorOptions } from 'class-validator';
import { KNOWN_CONSTRAINTS, type Predicate } from './knownConstraints.js';
import { PROBE_VALUES } from './probeValues.js';

/**
 * A class's class-validator metadata compiled once into a plain function.
 * `check(plain)` says whether class-validator's `validateSync` of an
 * instance of the class holding `plain`'s own properties would find no
 * error, with a one-way promise: `true` only if it would. `false` means
 * "ask class-validator" (it holds the messages, and may still accept).
 */
export type CompiledCheck = { check: (plain: Record<string, unknown>) => boolean } | { fallback: string };

/** One decorator on one property, as class-validator's storage holds it. */
type Metadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

interface PropertyCheck {
  name: string;
  tests: Predicate[];
}

/** The only validator options the compiler takes: the app's (see validated.ts). */
function supportedOptions(options: ValidatorOptions): string | undefined {
  const { whitelist, forbidNonWhitelisted, forbidUnknownValues, ...rest } = options;
  if (whitelist !== true || forbidNonWhitelisted !== true) return 'only whitelist with forbidNonWhitelisted is compiled';
  if (forbidUnknownValues === false) return 'forbidUnknownValues: false is not compiled';
  const others = Object.entries(rest).filter(([, v]) => v !== undefined);
  if (others.length > 0) return `validator options ${others.map(([k]) => k).join(', ')} are not compiled`;
  return undefined;
}

/**
 * Compiles `cls`'s decorators (its own and inherited ones, as class-validator
 * selects them for `options`: same storage, same call) into a check, or
 * says why it will not (the class then goes to validateSync every time).
 * It falls back on anything it does not know: a decorator name not in
 * KNOWN_CONSTRAINTS, `each`, nested, conditional (@IsOptional, @ValidateIf)
 * and async validation, a class without decorators, a constructor that
 * gives fields values, a decorated name the prototype chain holds, options
 * other than the app's, and a constraint whose own validate disagrees with
 * the compiled predicate on a probe value (a custom decorator registered
 * under a built-in's name).
 */
export function compileCheck(cls: new () => object, options: ValidatorOptions): CompiledCheck {
  const unsupported = supportedOptions(options);
  if (unsupported) return { fallback: unsupported };
  const storage = getMetadataStorage();
  // class-validator's own selection (ValidationExecutor.execute): no groups, always false, strictGroups false
  const metadatas = storage.getTargetValidationMetadatas(cls, undefined as unknown as string, options.always ?? false, options.strictGroups ?? false, options.groups);
  if (metadatas.length === 0) return { fallback: 'the class has no decorators (class-validator refuses it as an unknown value)' };
  let template: object;
  try {
    template = new cls();
  } catch (err) {
    return { fallback: `its constructor throws (${(err as Error).message})` };
  }
  const byName = new Map<string, Predicate[]>();
  for (const m of metadatas) {
    const tests = byName.get(m.propertyName) ?? [];
    byName.set(m.propertyName, tests);
    const compiled = compileOne(cls, m, template);
    if (typeof compiled === 'string') return { fallback: `${m.propertyName}: ${compiled}` };
    if (compiled !== undefined) tests.push(compiled);
  }
  for (const name of byName.keys()) {
    // a getter, a method or Object.prototype's own name: class-validator would read that, not undefined
    if (name in cls.prototype) return { fallback: `${name} is a name the class's prototype chain holds` };
  }
  for (const key of Reflect.ownKeys(template)) {
    const value = (template as Record<string | symbol, unknown>)[key];
    if (value !== undefined) return { fallback: `its constructor gives ${String(key)} a value` };
    if (typeof key === 'string' && !byName.has(key)) return { fallback: `its constructor defines ${key}, which has no decorator` };
  }
  const properties: PropertyCheck[] = [...byName].map(([name, tests]) => ({ name, tests }));
  return { check: checkOf(properties) };
}

/** The predicate of one decorator on one property, undefined for @Allow (no check), or why it cannot be compiled. */
function compileOne(cls: new () => object, m: Metadata, template: object): Predicate | undefined | string {
  if (m.type === ValidationTypes.WHITELIST) return undefined;
  if (m.type !== ValidationTypes.CUSTOM_VALIDATION && m.type !== ValidationTypes.IS_DEFINED) return `a ${m.type} decorator is not compiled`;
  if (m.each) return 'each: true is not compiled';
  const constraints = getMetadataStorage().getTargetValidatorConstraints(m.constraintCls);
  if (constraints.length !== 1) return `${constraints.length} validators for one decorator are not compiled`;
  const constraint = constraints[0]!;
  if (constraint.async) return `${constraint.name ?? m.name ?? 'an unnamed'} validates asynchronously`;
  const name = constraint.name ?? m.name;
  const make = name === undefined ? undefined : KNOWN_CONSTRAINTS.get(name);
  if (make === undefined) return `the decorator ${name ?? '(unnamed)'} is not one the compiler knows`;
  const predicate = make(m.constraints ?? []);
  const own = constraint.instance as { validate(value: unknown, args: object): unknown };
  for (const value of PROBE_VALUES) {
    let theirs: unknown;
    try {
      theirs = own.validate(value, { targetName: cls.name, property: m.propertyName, object: template, value, constraints: m.constraints });
    } catch {
      return `${name}'s validate throws on a probe value`;
    }
    if (typeof theirs !== 'boolean' || theirs !== predicate(value)) return `${name} is registered by a validator that does not behave as class-validator's ${name}`;
  }
  return predicate;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * The check itself: every key is a decorated name (whitelist with
 * forbidNonWhitelisted), and every decorated name's value, the own one or
 * undefined, passes each of its tests.
 */
function checkOf(properties: PropertyCheck[]): (plain: Record<string, unknown>) => boolean {
  const allowed = new Set(properties.map((p) => p.name));
  return (plain) => {
    for (const key in plain) {
      // inherited enumerable keys are not the instance's: class-validator never sees them
      if (hasOwn.call(plain, key) && !allowed.has(key)) return false;
    }
    for (let i = 0; i < properties.length; i++) {
      const p = properties[i]!;
      const value = hasOwn.call(plain, p.name) ? plain[p.name] : undefined;
      const tests = p.tests;
      for (let j = 0; j < tests.length; j++) if (!tests[j]!(value)) return false;
    }
    return true;
  };
}
