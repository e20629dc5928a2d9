// Query parameters read as the apiserver reads them: k8s.io/apimachinery pkg/runtime/conversion.go
// (Convert_Slice_string_To_bool/int64/Pointer_*: the first value counts), the options' validation
// (pkg/apis/meta/internalversion/validation ValidateListOptions, pkg/apis/meta/v1/validation
// ValidateDeleteOptions/ValidateCreateOptions...), and the 400/422 Status each failure is.

import { type ApiStatusError, badRequest, type FieldError, invalidObject } from './api-status.js';

/**
 * Convert_Slice_string_To_bool: absent is false; present is true unless it is `0` or `false` in any case
 * (an empty value is true: `?watch` starts a watch).
 */
export function queryBool(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  if (value === null) return false;
  return !(value === '0' || value.toLowerCase() === 'false');
}

/** A *bool parameter (sendInitialEvents): undefined when absent, else as queryBool. */
export function queryOptionalBool(params: URLSearchParams, name: string): boolean | undefined {
  return params.has(name) ? queryBool(params, name) : undefined;
}

/**
 * Convert_Slice_string_To_int64 / Pointer_int64: undefined when absent; anything strconv.ParseInt(v, 10, 64)
 * refuses is a 400 with Go's message.
 */
export function queryInt(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null) return undefined;
  if (!/^[+-]?\d+$/.test(value)) {
    throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  }
  const parsed = BigInt(value);
  if (parsed > 9223372036854775807n || parsed < -9223372036854775808n) {
    throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`);
  }
  return Number(parsed);
}

function forbiddenField(field: string, detail: string): FieldError {
  return { field, message: `${field}: Forbidden: ${detail}` };
}

function notSupported(field: string, value: string, supported: readonly string[]): FieldError {
  return {
    field,
    message: `${field}: Unsupported value: ${value}: supported values: ${supported.map((item) => JSON.stringify(item)).join(', ')}`,
  };
}

/** errors.NewInvalid for a meta.k8s.io options kind: 422 `ListOptions.meta.k8s.io "" is invalid: ...`. */
export function invalidOptions(kind: string, errors: readonly FieldError[]): ApiStatusError {
  return invalidObject('meta.k8s.io', kind, '', errors);
}

/** The list and watch parameters, validated as ValidateListOptions (and validateWatchOptions) do. */
export interface ListParams {
  watch: boolean;
  limit: number | undefined;
  continueToken: string;
  resourceVersion: string;
  resourceVersionMatch: string;
  timeoutSeconds: number | undefined;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean | undefined;
}

export function listParams(params: URLSearchParams): ListParams {
  const parsed: ListParams = {
    watch: queryBool(params, 'watch'),
    limit: queryInt(params, 'limit'),
    continueToken: params.get('continue') ?? '',
    resourceVersion: params.get('resourceVersion') ?? '',
    resourceVersionMatch: params.get('resourceVersionMatch') ?? '',
    timeoutSeconds: queryInt(params, 'timeoutSeconds'),
    allowWatchBookmarks: queryBool(params, 'allowWatchBookmarks'),
    sendInitialEvents: queryOptionalBool(params, 'sendInitialEvents'),
  };
  const errors = parsed.watch ? watchErrors(parsed) : listErrors(parsed);
  if (errors.length > 0) throw invalidOptions('ListOptions', errors);
  if (parsed.resourceVersion !== '' && !/^\d+$/.test(parsed.resourceVersion)) {
    // APIObjectVersioner.ParseResourceVersion's storage.InvalidError, answered as a 400.
    throw badRequest(
      `resourceVersion: Invalid value: ${JSON.stringify(parsed.resourceVersion)}: strconv.ParseUint: parsing ${JSON.stringify(parsed.resourceVersion)}: invalid syntax`,
    );
  }
  return parsed;
}

function listErrors(options: ListParams): FieldError[] {
  const errors: FieldError[] = [];
  const match = options.resourceVersionMatch;
  if (match !== '') {
    if (options.resourceVersion === '') {
      errors.push(
        forbiddenField(
          'resourceVersionMatch',
          'resourceVersionMatch is forbidden unless resourceVersion is provided',
        ),
      );
    }
    if (options.continueToken !== '') {
      errors.push(
        forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'),
      );
    }
    if (match !== 'Exact' && match !== 'NotOlderThan') {
      errors.push(notSupported('resourceVersionMatch', JSON.stringify(match), ['Exact', 'NotOlderThan', '']));
    }
    if (match === 'Exact' && options.resourceVersion === '0') {
      errors.push(
        forbiddenField(
          'resourceVersionMatch',
          'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
        ),
      );
    }
  }
  if (options.sendInitialEvents !== undefined) {
    errors.push(forbiddenField('sendInitialEvents', 'sendInitialEvents is forbidden for list'));
  }
  return errors;
}

// validateWatchOptions, with the WatchList feature on (beta and enabled by default in 1.32).
function watchErrors(options: ListParams): FieldError[] {
  const errors: FieldError[] = [];
  const match = options.resourceVersionMatch;
  if (options.sendInitialEvents !== undefined && match !== 'NotOlderThan') {
    errors.push(
      forbiddenField(
        'resourceVersionMatch',
        'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
      ),
    );
  }
  if (match !== '') {
    if (options.sendInitialEvents === undefined) {
      errors.push(
        forbiddenField(
          'resourceVersionMatch',
          'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
        ),
      );
    }
    if (match !== 'NotOlderThan') {
      errors.push(notSupported('resourceVersionMatch', JSON.stringify(match), ['NotOlderThan']));
    }
    if (options.continueToken !== '') {
      errors.push(
        forbiddenField('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided'),
      );
    }
  }
  return errors;
}

/** ValidateDryRun: every value must be `All`; returns whether the request is a dry run. */
function dryRunOf(values: readonly string[], errors: FieldError[]): boolean {
  if (values.some((value) => value !== 'All')) {
    const goSlice = `[]string{${values.map((value) => JSON.stringify(value)).join(', ')}}`;
    errors.push(notSupported('dryRun', goSlice, ['All']));
  }
  return values.length > 0;
}

const FIELD_VALIDATION = ['', 'Ignore', 'Strict', 'Warn'];

/** The parameters of create, update and patch (CreateOptions, UpdateOptions, PatchOptions). */
export interface WriteParams {
  dryRun: boolean;
  fieldManager: string;
  fieldValidation: string;
}

export function writeParams(
  params: URLSearchParams,
  kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions',
): WriteParams {
  const errors: FieldError[] = [];
  const dryRun = dryRunOf(params.getAll('dryRun'), errors);
  const fieldManager = params.get('fieldManager') ?? '';
  // ValidateFieldManager: at most 128 bytes, printable characters only.
  if (Buffer.byteLength(fieldManager) > 128) {
    errors.push({ field: 'fieldManager', message: 'fieldManager: Too long: may not be more than 128 bytes' });
  } else if (/[^\x20-\x7e\u00a0-\uffff]/.test(fieldManager)) {
    errors.push({
      field: 'fieldManager',
      message: `fieldManager: Invalid value: ${JSON.stringify(fieldManager)}: FieldManager must only contain printable characters`,
    });
  }
  const fieldValidation = params.get('fieldValidation') ?? '';
  if (!FIELD_VALIDATION.includes(fieldValidation)) {
    errors.push(notSupported('fieldValidation', JSON.stringify(fieldValidation), FIELD_VALIDATION));
  }
  if (errors.length > 0) throw invalidOptions(kind, errors);
  return { dryRun, fieldManager, fieldValidation };
}

/** DELETE's options from the query string and the body (the body wins, as the apiserver decodes it last). */
export interface DeleteParams {
  gracePeriodSeconds: number | undefined;
  propagationPolicy: string | undefined;
  dryRun: boolean;
  preconditions: { uid?: string; resourceVersion?: string } | undefined;
}

export interface DeleteBody {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  dryRun?: string[];
}

const PROPAGATION = ['Foreground', 'Background', 'Orphan'];

export function deleteParams(params: URLSearchParams, body: DeleteBody): DeleteParams {
  const errors: FieldError[] = [];
  const gracePeriodSeconds = body.gracePeriodSeconds ?? queryInt(params, 'gracePeriodSeconds');
  const propagationPolicy = body.propagationPolicy ?? params.get('propagationPolicy') ?? undefined;
  if (propagationPolicy !== undefined && !PROPAGATION.includes(propagationPolicy)) {
    errors.push(
      notSupported('propagationPolicy', JSON.stringify(propagationPolicy), [...PROPAGATION, 'nil']),
    );
  }
  const dryRun = dryRunOf(body.dryRun ?? params.getAll('dryRun'), errors);
  if (errors.length > 0) throw invalidOptions('DeleteOptions', errors);
  return { gracePeriodSeconds, propagationPolicy, dryRun, preconditions: body.preconditions };
}
