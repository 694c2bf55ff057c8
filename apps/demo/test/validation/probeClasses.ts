import { Allow, IsDefined, IsInt, IsNotEmpty, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';

/**
 * Classes that use the known decorators the app's own classes do not
 * (IsDefined, IsInt, MinLength, Allow) and inheritance, for the
 * differential test: a subclass sees its base's decorators.
 */
export class ProbeBase {
  @IsDefined()
  tag!: unknown;

  @IsString() @MinLength(3) @MaxLength(16)
  code!: string;
}

export class ProbeDerived extends ProbeBase {
  @IsInt() @Min(-5) @Max(5)
  level!: number;

  @IsString() @IsNotEmpty() @MaxLength(64)
  note!: string;

  @Allow()
  free!: unknown;
}
