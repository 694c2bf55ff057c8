import { EpistemeError, isEpistemeError } from '@episteme/wal';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../src/app/config.js';
import { AssertionMade, validated, ValidationFailedError } from '../src/domain/events.js';

describe("the app's errors", () => {
  it('are EpistemeErrors with their codes, of category invalid-input (exit 2)', () => {
    const config = (() => {
      try {
        return resolveConfig({ durability: 'sometimes' }, {});
      } catch (err) {
        return err;
      }
    })();
    const validation = (() => {
      try {
        return validated(AssertionMade, { subject: 1 }, 'assertion');
      } catch (err) {
        return err;
      }
    })();
    expect(config).toBeInstanceOf(ConfigError);
    expect(validation).toBeInstanceOf(ValidationFailedError);
    for (const [err, code] of [[config, 'APP_CONFIG'], [validation, 'APP_VALIDATION_FAILED']] as const) {
      expect(err).toBeInstanceOf(EpistemeError);
      expect(isEpistemeError(err, code)).toBe(true);
      expect((err as EpistemeError).category).toBe('invalid-input');
      expect((err as EpistemeError).name).toBe((err as EpistemeError).constructor.name);
    }
  });
});
