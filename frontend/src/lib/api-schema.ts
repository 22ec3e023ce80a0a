// GENERATED FILE: do not edit. Generated from docs/openapi.json by `npm run api:types`
// (openapi-typescript); `npm run api:check` fails when it is out of date. To change the contract,
// change the server's models, regenerate docs/openapi.json, then run `npm run api:types`.

export interface paths {
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Database and bucket checks */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": Record<string, never>;
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a pending run and presigned uploads for its files */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CreateUploadRequest"];
                };
            };
            responses: {
                /** @description OK */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CreateUploadResponse"];
                    };
                };
                /** @description Body is not a JSON object */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description File, file count or body over the configured limit */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is not declared `Content-Type: application/json` (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Well-formed but invalid request */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Over a quota or rate limit of the caller's owner (`quota_exceeded`): nothing was created; the `Retry-After` header says in how many seconds to try again */
                429: {
                    headers: {
                        /** @description Seconds to wait before trying again */
                        "Retry-After": number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Declare a run for an Uppy app: its files and its own Companion endpoint */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CompanionRunRequest"];
                };
            };
            responses: {
                /** @description OK */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["CompanionRunOut"];
                    };
                };
                /** @description Body is not a JSON object */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description File, file count or body over the configured limit */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is not declared `Content-Type: application/json` (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Well-formed but invalid request */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Over a quota or rate limit of the caller's owner (`quota_exceeded`): nothing was created; the `Retry-After` header says in how many seconds to try again */
                429: {
                    headers: {
                        /** @description Seconds to wait before trying again */
                        "Retry-After": number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/{run_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Cancel a pending run */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    run_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RunOut"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such run or file (`not_found`), or no manifest for it (`no_manifest`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The run or file is in a state that refuses this: `run_not_pending`, `not_multipart`, `upload_completed`, `upload_gone`, `object_exists`, `checksum_conflict`, `file_pending`, `file_failed`, `file_lost`, `file_not_pending`, `upload_mismatch` (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/{run_id}/files/{file_id}/parts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Parts the bucket already holds (to resume) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    run_id: string;
                    file_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ListPartsResponse"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such run or file (`not_found`), or no manifest for it (`no_manifest`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The run or file is in a state that refuses this: `run_not_pending`, `not_multipart`, `upload_completed`, `upload_gone`, `object_exists`, `checksum_conflict`, `file_pending`, `file_failed`, `file_lost`, `file_not_pending`, `upload_mismatch` (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        /** Sign (or re-sign) part upload URLs */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    run_id: string;
                    file_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["SignPartsRequest"];
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SignPartsResponse"];
                    };
                };
                /** @description Body is not a JSON object */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such run or file (`not_found`), or no manifest for it (`no_manifest`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The run or file is in a state that refuses this: `run_not_pending`, `not_multipart`, `upload_completed`, `upload_gone`, `object_exists`, `checksum_conflict`, `file_pending`, `file_failed`, `file_lost`, `file_not_pending`, `upload_mismatch` (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description File, file count or body over the configured limit */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is not declared `Content-Type: application/json` (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Well-formed but invalid request */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/uploads/{run_id}/files/{file_id}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Complete a multipart upload */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    run_id: string;
                    file_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CompleteRequest"];
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["FileOut"];
                    };
                };
                /** @description Body is not a JSON object */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such run or file (`not_found`), or no manifest for it (`no_manifest`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The run or file is in a state that refuses this: `run_not_pending`, `not_multipart`, `upload_completed`, `upload_gone`, `object_exists`, `checksum_conflict`, `file_pending`, `file_failed`, `file_lost`, `file_not_pending`, `upload_mismatch` (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description File, file count or body over the configured limit */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is not declared `Content-Type: application/json` (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Well-formed but invalid request */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Runs, newest first */
        get: {
            parameters: {
                query?: {
                    status?: "" | "pending" | "stored" | "failed" | "cancelled" | "expired";
                    type?: string;
                    limit?: number;
                    cursor?: string;
                    /** @description Runs whose label contains this text, in any case: 3 to 200 printable characters (empty means any). */
                    q?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RunPage"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Well-formed but invalid request */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{run_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A run with its files; with `wait`, as soon as it leaves `pending` */
        get: {
            parameters: {
                query?: {
                    /** @description Seconds to wait for the run to leave `pending` (at most INLET_MAX_WAIT_SECONDS, 20 by default); it answers as soon as it does, or when the time is up with the run still pending. 0 or absent: at once. */
                    wait?: number;
                };
                header?: never;
                path: {
                    run_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["RunDetail"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such run or file (`not_found`), or no manifest for it (`no_manifest`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Well-formed but invalid request */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{run_id}/files/{file_id}/download": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A short-lived presigned GET of a stored file's recorded version */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    run_id: string;
                    file_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Download"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such run or file (`not_found`), or no manifest for it (`no_manifest`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The run or file is in a state that refuses this: `run_not_pending`, `not_multipart`, `upload_completed`, `upload_gone`, `object_exists`, `checksum_conflict`, `file_pending`, `file_failed`, `file_lost`, `file_not_pending`, `upload_mismatch` (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/runs/{run_id}/files/{file_id}/manifest": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An archive's manifest (its entries, paged), as the manifest processor read it */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    run_id: string;
                    file_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Manifest"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such run or file (`not_found`), or no manifest for it (`no_manifest`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Well-formed but invalid request */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/limits": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's quotas and rate limits, with their use now (docs/security.md) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Limits"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/bucket-events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Bucket notifications from MinIO's webhook target (Bearer INLET_WEBHOOK_SECRET; 404 when no secret is configured) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["BucketNotification"];
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["BucketEventsResult"];
                    };
                };
                /** @description Body is not a JSON object */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description No such run or file (`not_found`), or no manifest for it (`no_manifest`) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description File, file count or body over the configured limit */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description The body is not declared `Content-Type: application/json` (`unsupported_media_type`) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Well-formed but invalid request */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Database or bucket unreachable */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/s3/params": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A presigned POST for a declared file, or a new run of one file */
        get: {
            parameters: {
                query: {
                    filename: string;
                    type?: string;
                    /** @description The file's size in bytes (the app adds it to the file's meta; a declared file has its size); also `metadata[runId]`, `metadata[fileId]`, `metadata[sha256]`, `metadata[runType]`, `metadata[label]` (docs/uppy.md) */
                    "metadata[size]": number;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            method: "POST";
                            url: string;
                            fields: {
                                [key: string]: string;
                            };
                            expires: number;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/s3/multipart": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A multipart upload for a declared file, or a new run of one file */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CompanionCreate"];
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            key: string;
                            uploadId: string;
                            bucket: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/s3/multipart/{upload_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The parts in the bucket */
        get: {
            parameters: {
                query: {
                    key: string;
                };
                header?: never;
                path: {
                    upload_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            PartNumber?: number;
                            ETag?: string;
                            Size?: number;
                        }[];
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Abort the upload: a run of one file is cancelled */
        delete: {
            parameters: {
                query: {
                    key: string;
                };
                header?: never;
                path: {
                    upload_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": Record<string, never>;
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/s3/multipart/{upload_id}/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Presigned URLs of parts */
        get: {
            parameters: {
                query: {
                    key: string;
                    /** @description Comma-separated part numbers, e.g. `1,2,3` */
                    partNumbers: string;
                };
                header?: never;
                path: {
                    upload_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            presignedUrls?: {
                                [key: string]: string;
                            };
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/s3/multipart/{upload_id}/{part_number}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A presigned URL of one part */
        get: {
            parameters: {
                query: {
                    key: string;
                };
                header?: never;
                path: {
                    upload_id: string;
                    part_number: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            url?: string;
                            expires?: number;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/s3/multipart/{upload_id}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Complete the upload (the run is stored once its bytes are verified) */
        post: {
            parameters: {
                query: {
                    key: string;
                };
                header?: never;
                path: {
                    upload_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CompanionComplete"];
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            location: string;
                            key: string;
                            bucket: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Missing or wrong bearer token */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["ErrorResponse"];
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/runs/{run_id}/{endpoint_key}/s3/params": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A presigned POST for a declared file, or a new run of one file */
        get: {
            parameters: {
                query: {
                    filename: string;
                    type?: string;
                    /** @description The file's size in bytes (the app adds it to the file's meta; a declared file has its size); also `metadata[runId]`, `metadata[fileId]`, `metadata[sha256]`, `metadata[runType]`, `metadata[label]` (docs/uppy.md) */
                    "metadata[size]"?: number;
                };
                header?: never;
                path: {
                    run_id: string;
                    /** @description The key `POST /v1/companion/runs` gave the run's endpoint */
                    endpoint_key: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @constant */
                            method: "POST";
                            url: string;
                            fields: {
                                [key: string]: string;
                            };
                            expires: number;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/runs/{run_id}/{endpoint_key}/s3/multipart": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A multipart upload for a declared file, or a new run of one file */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    run_id: string;
                    /** @description The key `POST /v1/companion/runs` gave the run's endpoint */
                    endpoint_key: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CompanionCreate"];
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            key: string;
                            uploadId: string;
                            bucket: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/runs/{run_id}/{endpoint_key}/s3/multipart/{upload_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The parts in the bucket */
        get: {
            parameters: {
                query: {
                    key: string;
                };
                header?: never;
                path: {
                    run_id: string;
                    /** @description The key `POST /v1/companion/runs` gave the run's endpoint */
                    endpoint_key: string;
                    upload_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            PartNumber?: number;
                            ETag?: string;
                            Size?: number;
                        }[];
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Abort the upload: a run of one file is cancelled */
        delete: {
            parameters: {
                query: {
                    key: string;
                };
                header?: never;
                path: {
                    run_id: string;
                    /** @description The key `POST /v1/companion/runs` gave the run's endpoint */
                    endpoint_key: string;
                    upload_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": Record<string, never>;
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/runs/{run_id}/{endpoint_key}/s3/multipart/{upload_id}/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Presigned URLs of parts */
        get: {
            parameters: {
                query: {
                    key: string;
                    /** @description Comma-separated part numbers, e.g. `1,2,3` */
                    partNumbers: string;
                };
                header?: never;
                path: {
                    run_id: string;
                    /** @description The key `POST /v1/companion/runs` gave the run's endpoint */
                    endpoint_key: string;
                    upload_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            presignedUrls?: {
                                [key: string]: string;
                            };
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/runs/{run_id}/{endpoint_key}/s3/multipart/{upload_id}/{part_number}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A presigned URL of one part */
        get: {
            parameters: {
                query: {
                    key: string;
                };
                header?: never;
                path: {
                    run_id: string;
                    /** @description The key `POST /v1/companion/runs` gave the run's endpoint */
                    endpoint_key: string;
                    upload_id: string;
                    part_number: number;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            url?: string;
                            expires?: number;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/companion/runs/{run_id}/{endpoint_key}/s3/multipart/{upload_id}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Complete the upload (the run is stored once its bytes are verified) */
        post: {
            parameters: {
                query: {
                    key: string;
                };
                header?: never;
                path: {
                    run_id: string;
                    /** @description The key `POST /v1/companion/runs` gave the run's endpoint */
                    endpoint_key: string;
                    upload_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["CompanionComplete"];
                };
            };
            responses: {
                /** @description OK */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            location: string;
                            key: string;
                            bucket: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
                /** @description Refused, as Companion refuses: `error` (and `message`, which Uppy shows) say why, `code` is the contract's (docs/contract.md) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            error: string;
                            message: string;
                            code: string;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    runEvent: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A run event, signed (header `Inlet-Signature`) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["RunEvent"];
                };
            };
            responses: {
                /** @description Received; any other answer is retried */
                "2XX": {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        /** BucketEventsResult */
        BucketEventsResult: {
            /** Processed */
            processed: components["schemas"]["ProcessedObject"][];
        };
        /**
         * BucketNotification
         * @description What MinIO's webhook target posts (only `Records` is read).
         */
        BucketNotification: {
            /**
             * Eventname
             * @default null
             */
            EventName: string | null;
            /**
             * Key
             * @description bucket/key of the object
             * @default null
             */
            Key: string | null;
            /**
             * Records
             * @description S3 event records
             */
            Records: {
                [key: string]: unknown;
            }[];
        } & {
            [key: string]: unknown;
        };
        /**
         * CompanionComplete
         * @description `POST s3/multipart/{uploadId}/complete`: every part uploaded.
         */
        CompanionComplete: {
            /** Parts */
            parts: components["schemas"]["CompanionPart"][];
        };
        /**
         * CompanionCreate
         * @description `POST s3/multipart`: the file's name, MIME type and meta (with its `size`).
         */
        CompanionCreate: {
            /**
             * Filename
             * @default
             */
            filename: string;
            /**
             * Type
             * @default
             */
            type: string;
            /**
             * Metadata
             * @default {}
             */
            metadata: {
                [key: string]: unknown;
            };
        };
        /** CompanionPart */
        CompanionPart: {
            /** Partnumber */
            PartNumber: number;
            /** Etag */
            ETag: string;
        };
        /**
         * CompanionRunOut
         * @description A run declared for Uppy (`POST /v1/companion/runs`), and its Companion endpoint.
         */
        CompanionRunOut: {
            run: components["schemas"]["RunOut"];
            /** Files */
            files: components["schemas"]["FileOut"][];
            /**
             * Companion Endpoint
             * @description Uppy's Companion URL for this run's files, relative to the API's base URL: its key stands for a token, for this run only (docs/uppy.md)
             */
            companion_endpoint: string;
        };
        /**
         * CompanionRunRequest
         * @description `POST /v1/companion/runs`: as `POST /v1/uploads`, with the type the Companion routes
         *     give a run when none is named (INLET_DEFAULT_RUN_TYPE).
         */
        CompanionRunRequest: {
            /**
             * Type
             * @default
             */
            type: string;
            /**
             * Label
             * @default null
             */
            label: string | null;
            /**
             * Notes
             * @default null
             */
            notes: string | null;
            /** Files */
            files: components["schemas"]["FileSpec"][];
        };
        /** CompleteRequest */
        CompleteRequest: {
            /**
             * Parts
             * @description Every part of the file, by ascending part_number, without repeats
             */
            parts: components["schemas"]["CompletedPart"][];
            /**
             * Sha256
             * @description Hex SHA-256 of the whole file, verified after upload like one declared at creation: it becomes the file's `declared_sha256`; if the file declared one already, it must be the same (409 `checksum_conflict` otherwise)
             * @default null
             */
            sha256: string | null;
        };
        /** CompletedPart */
        CompletedPart: {
            /** Part Number */
            part_number: number;
            /** Etag */
            etag: string;
        };
        /** CreateUploadRequest */
        CreateUploadRequest: {
            /** Type */
            type: string;
            /**
             * Label
             * @default null
             */
            label: string | null;
            /**
             * Notes
             * @default null
             */
            notes: string | null;
            /** Files */
            files: components["schemas"]["FileSpec"][];
        };
        /** CreateUploadResponse */
        CreateUploadResponse: {
            run: components["schemas"]["RunOut"];
            /** Files */
            files: components["schemas"]["UploadFileOut"][];
        };
        /**
         * Download
         * @description A short-lived presigned GET of exactly the recorded version of a stored file.
         */
        Download: {
            /**
             * Url
             * @description GET it within `expires_at`; the response is the file as an attachment under its original name
             */
            url: string;
            /**
             * Expires At
             * Format: date-time
             */
            expires_at: string;
            /** Name */
            name: string;
            /**
             * Version Id
             * @description The version the URL reads; null on a store without versioning
             */
            version_id: string | null;
            /**
             * Sha256
             * @description The sha256 the bucket event handler verified
             */
            sha256: string;
            /** Size Bytes */
            size_bytes: number;
        };
        /** ErrorBody */
        ErrorBody: {
            /**
             * Code
             * @description What went wrong, for programs to branch on (docs/contract.md)
             * @enum {string}
             */
            code: "bad_request" | "unauthorized" | "forbidden" | "not_found" | "method_not_allowed" | "run_not_pending" | "not_multipart" | "upload_completed" | "upload_gone" | "object_exists" | "checksum_conflict" | "file_pending" | "file_failed" | "file_lost" | "no_manifest" | "file_not_pending" | "upload_mismatch" | "token_exists" | "too_large" | "unsupported_media_type" | "validation_error" | "quota_exceeded" | "internal_error" | "unavailable";
            /** Message */
            message: string;
            /**
             * Details
             * @default []
             */
            details: components["schemas"]["ErrorDetail"][];
        };
        /** ErrorDetail */
        ErrorDetail: {
            /**
             * Field
             * @default null
             */
            field: string | null;
            /** Message */
            message: string;
        };
        /** ErrorInfo */
        ErrorInfo: {
            /** Code */
            code: string;
            /** Message */
            message: string;
        };
        /** ErrorResponse */
        ErrorResponse: {
            error: components["schemas"]["ErrorBody"];
        };
        /** EventFile */
        EventFile: {
            /**
             * Id
             * Format: uuid
             */
            id: string;
            /** Name */
            name: string;
            /** Key */
            key: string;
            /** Version Id */
            version_id: string | null;
            /** Size Bytes */
            size_bytes: number;
            /** Sha256 */
            sha256: string | null;
            /**
             * Status
             * @enum {string}
             */
            status: "pending" | "stored" | "failed" | "lost";
            error: components["schemas"]["ErrorInfo"] | null;
        };
        /** EventRun */
        EventRun: {
            /**
             * Id
             * Format: uuid
             */
            id: string;
            /** Type */
            type: string;
            /** Label */
            label: string | null;
            /**
             * Status
             * @enum {string}
             */
            status: "pending" | "stored" | "failed" | "cancelled" | "expired";
            /**
             * Source
             * @enum {string}
             */
            source: "api" | "bucket";
            /** Owner */
            owner: string | null;
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /** Stored At */
            stored_at: string | null;
            error: components["schemas"]["ErrorInfo"] | null;
        };
        /** FileOut */
        FileOut: {
            /**
             * Id
             * Format: uuid
             */
            id: string;
            /**
             * Run Id
             * Format: uuid
             */
            run_id: string;
            /** Name */
            name: string;
            /** Key */
            key: string;
            /** Size Bytes */
            size_bytes: number;
            /** Content Type */
            content_type: string;
            /**
             * Status
             * @description `lost`: it was stored, and its recorded version is no longer in the bucket (error `version_deleted`)
             * @enum {string}
             */
            status: "pending" | "stored" | "failed" | "lost";
            /** Sha256 */
            sha256: string | null;
            /** Declared Sha256 */
            declared_sha256: string | null;
            /** Etag */
            etag: string | null;
            /**
             * Version Id
             * @description The object version that was verified and recorded (read it with GetObject VersionId); null on a store without versioning, and while an upload is pending. Always sent; optional in this document, as fields added later are
             */
            version_id?: string | null;
            /** Stored At */
            stored_at: string | null;
            /**
             * Checked At
             * @description When the server checked the object and recorded the verdict, stored or failed; null while pending. Always sent; optional in this document, as fields added later are
             */
            checked_at?: string | null;
            error: components["schemas"]["ErrorInfo"] | null;
        };
        /** FileSpec */
        FileSpec: {
            /** Name */
            name: string;
            /**
             * Size
             * @description Size in bytes
             */
            size: number;
            /**
             * Content Type
             * @default application/octet-stream
             */
            content_type: string;
            /**
             * Sha256
             * @description Hex SHA-256, verified after upload
             * @default null
             */
            sha256: string | null;
        };
        /** Health */
        Health: {
            /**
             * Status
             * @enum {string}
             */
            status: "ok" | "error";
            /** Checks */
            checks: {
                [key: string]: string;
            };
        };
        /**
         * Incident
         * @description Something the bucket did to a final file's key, recorded once (docs/events.md).
         */
        Incident: {
            /**
             * Kind
             * @description `overwritten`: another version was written over the key; `deleted`: a delete marker was placed on it (in both, the recorded version stays readable and the file stays as recorded); `version_lost`: the recorded version itself is gone (the file is then `lost`)
             * @enum {string}
             */
            kind: "overwritten" | "deleted" | "version_lost";
            /**
             * File Id
             * Format: uuid
             */
            file_id: string;
            /** Key */
            key: string;
            /** Recorded Version Id */
            recorded_version_id: string | null;
            /**
             * Other Version Id
             * @description The version written, or the delete marker placed; null for version_lost
             */
            other_version_id: string | null;
            /**
             * Detected At
             * Format: date-time
             */
            detected_at: string;
            /** Message */
            message: string;
        };
        /**
         * LimitUse
         * @description One quota or rate limit of the caller's owner, and how much of it is in use now.
         */
        LimitUse: {
            /**
             * Limit
             * @description The configured limit; null: no limit (set to 0)
             */
            limit: number | null;
            /**
             * Used
             * @description In use now (rates: in the last `window_seconds`)
             */
            used: number;
            /**
             * Remaining
             * @description `limit` - `used`, never below 0; null: no limit
             */
            remaining: number | null;
            /**
             * Window Seconds
             * @description Rates: the sliding window; null otherwise
             */
            window_seconds: number | null;
            /**
             * Retry After
             * @description Rates with nothing remaining: seconds until the window frees one; null otherwise (a pending limit frees up as runs are stored, cancelled or expire)
             */
            retry_after: number | null;
            /**
             * Setting
             * @description The variable that sets the limit
             */
            setting: string;
        };
        /** Limits */
        Limits: {
            /**
             * Owner
             * @description Whose limits (null: authentication is off)
             */
            owner: string | null;
            uploads: components["schemas"]["UploadRules"];
            pending_runs: components["schemas"]["LimitUse"];
            /** @description Bytes declared by pending runs, not yet stored */
            pending_bytes: components["schemas"]["LimitUse"];
            runs_per_minute: components["schemas"]["LimitUse"];
            /** @description Drops into inbox/ adopted as runs; only for INLET_INBOX_OWNER, else null */
            inbox_per_minute: components["schemas"]["LimitUse"] | null;
        };
        /** ListPartsResponse */
        ListPartsResponse: {
            /** Parts */
            parts: components["schemas"]["StoredPart"][];
        };
        /**
         * Manifest
         * @description What an archive holds, as the `manifest` processor read it from the bucket.
         */
        Manifest: {
            /**
             * File Id
             * Format: uuid
             */
            file_id: string;
            /**
             * Status
             * @description `pending`: not processed yet; `done`: every entry is listed; `failed`: the archive was refused or unreadable (`error` says why and names the entry). The file's own status is never changed by processing
             * @enum {string}
             */
            status: "pending" | "done" | "failed";
            /**
             * Format
             * @enum {string}
             */
            format: "tar" | "tar.gz" | "zip";
            /**
             * Entry Count
             * @description Entries (files and directories); null unless done
             */
            entry_count: number | null;
            /** File Count */
            file_count: number | null;
            /** Dir Count */
            dir_count: number | null;
            /**
             * Total Bytes
             * @description The entries' sizes added up, unpacked
             */
            total_bytes: number | null;
            /** Processed At */
            processed_at: string | null;
            error: components["schemas"]["ErrorInfo"] | null;
            /**
             * Entries
             * @description A page of entries, in archive order
             */
            entries: components["schemas"]["ManifestEntry"][];
            /** Next Cursor */
            next_cursor: string | null;
        };
        /** ManifestEntry */
        ManifestEntry: {
            /**
             * Path
             * @description The entry's path inside the archive, `/`-separated
             */
            path: string;
            /**
             * Kind
             * @enum {string}
             */
            kind: "file" | "dir";
            /** Size Bytes */
            size_bytes: number;
            /**
             * Sha256
             * @description Of the entry's bytes; null for a directory
             */
            sha256: string | null;
        };
        /** MultipartUpload */
        MultipartUpload: {
            /**
             * Method
             * @default multipart
             * @constant
             */
            method: "multipart";
            /** Upload Id */
            upload_id: string;
            /** Part Size */
            part_size: number;
            /** Part Count */
            part_count: number;
            /** Parts */
            parts: components["schemas"]["SignedPart"][];
        };
        /** ProcessedObject */
        ProcessedObject: {
            /** Key */
            key: string;
            /** Outcome */
            outcome: string;
        };
        /** RunDetail */
        RunDetail: {
            /**
             * Id
             * Format: uuid
             */
            id: string;
            /** Type */
            type: string;
            /** Label */
            label: string | null;
            /** Notes */
            notes: string | null;
            /**
             * Status
             * @enum {string}
             */
            status: "pending" | "stored" | "failed" | "cancelled" | "expired";
            /**
             * Source
             * @enum {string}
             */
            source: "api" | "bucket";
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /**
             * Updated At
             * Format: date-time
             */
            updated_at: string;
            /** Stored At */
            stored_at: string | null;
            /** File Count */
            file_count: number;
            /** Total Bytes */
            total_bytes: number;
            error: components["schemas"]["ErrorInfo"] | null;
            /** Files */
            files: components["schemas"]["FileOut"][];
            /**
             * Incidents
             * @description Integrity incidents, oldest first
             */
            incidents?: components["schemas"]["Incident"][];
        };
        /**
         * RunEvent
         * @description A run event as published (EventBridge `detail`, a webhook's body); docs/consumers.md.
         */
        RunEvent: {
            /**
             * Id
             * Format: uuid
             * @description Unique per event: deduplicate on it (delivery is at least once)
             */
            id: string;
            /**
             * Type
             * @enum {string}
             */
            type: "run.stored" | "run.failed" | "run.cancelled" | "run.expired" | "run.incident";
            /**
             * Occurred At
             * Format: date-time
             */
            occurred_at: string;
            run: components["schemas"]["EventRun"];
            /**
             * File Count
             * @description The run's files, all of them
             */
            file_count: number;
            /**
             * Files
             * @description The run's files in upload order, at most the first 100 (an EventBridge event holds 256 KiB): when `files_truncated`, read the rest from `GET /v1/runs/{id}`
             */
            files: components["schemas"]["EventFile"][];
            /** Files Truncated */
            files_truncated: boolean;
            /** @description For `run.incident`: what happened; else null */
            incident: components["schemas"]["Incident"] | null;
        };
        /** RunOut */
        RunOut: {
            /**
             * Id
             * Format: uuid
             */
            id: string;
            /** Type */
            type: string;
            /** Label */
            label: string | null;
            /** Notes */
            notes: string | null;
            /**
             * Status
             * @enum {string}
             */
            status: "pending" | "stored" | "failed" | "cancelled" | "expired";
            /**
             * Source
             * @enum {string}
             */
            source: "api" | "bucket";
            /**
             * Created At
             * Format: date-time
             */
            created_at: string;
            /**
             * Updated At
             * Format: date-time
             */
            updated_at: string;
            /** Stored At */
            stored_at: string | null;
            /** File Count */
            file_count: number;
            /** Total Bytes */
            total_bytes: number;
            error: components["schemas"]["ErrorInfo"] | null;
        };
        /** RunPage */
        RunPage: {
            /** Items */
            items: components["schemas"]["RunOut"][];
            /** Next Cursor */
            next_cursor: string | null;
        };
        /** SignPartsRequest */
        SignPartsRequest: {
            /** Part Numbers */
            part_numbers: number[];
        };
        /** SignPartsResponse */
        SignPartsResponse: {
            /** Parts */
            parts: components["schemas"]["SignedPart"][];
        };
        /** SignedPart */
        SignedPart: {
            /** Part Number */
            part_number: number;
            /** Url */
            url: string;
            /**
             * Expires At
             * Format: date-time
             */
            expires_at: string;
        };
        /** SingleUpload */
        SingleUpload: {
            /**
             * Method
             * @default PUT
             * @constant
             */
            method: "PUT";
            /** Url */
            url: string;
            /** Headers */
            headers: {
                [key: string]: string;
            };
            /**
             * Expires At
             * Format: date-time
             */
            expires_at: string;
        };
        /** StoredPart */
        StoredPart: {
            /** Part Number */
            part_number: number;
            /** Etag */
            etag: string;
            /** Size */
            size: number;
        };
        /** UploadFileOut */
        UploadFileOut: {
            /**
             * Id
             * Format: uuid
             */
            id: string;
            /**
             * Run Id
             * Format: uuid
             */
            run_id: string;
            /** Name */
            name: string;
            /** Key */
            key: string;
            /** Size Bytes */
            size_bytes: number;
            /** Content Type */
            content_type: string;
            /**
             * Status
             * @description `lost`: it was stored, and its recorded version is no longer in the bucket (error `version_deleted`)
             * @enum {string}
             */
            status: "pending" | "stored" | "failed" | "lost";
            /** Sha256 */
            sha256: string | null;
            /** Declared Sha256 */
            declared_sha256: string | null;
            /** Etag */
            etag: string | null;
            /**
             * Version Id
             * @description The object version that was verified and recorded (read it with GetObject VersionId); null on a store without versioning, and while an upload is pending. Always sent; optional in this document, as fields added later are
             */
            version_id?: string | null;
            /** Stored At */
            stored_at: string | null;
            /**
             * Checked At
             * @description When the server checked the object and recorded the verdict, stored or failed; null while pending. Always sent; optional in this document, as fields added later are
             */
            checked_at?: string | null;
            error: components["schemas"]["ErrorInfo"] | null;
            /** Upload */
            upload: components["schemas"]["SingleUpload"] | components["schemas"]["MultipartUpload"];
        };
        /**
         * UploadRules
         * @description What a run may hold and how its files go up: the server's settings, the same for all.
         */
        UploadRules: {
            /**
             * Max File Size
             * @description Largest file, in bytes (INLET_MAX_FILE_SIZE)
             */
            max_file_size: number;
            /**
             * Max Files Per Run
             * @description Most files in one run (INLET_MAX_FILES_PER_RUN)
             */
            max_files_per_run: number;
            /**
             * Multipart Threshold
             * @description Files larger than this upload as multipart and may declare their sha256 at `complete`; the others go in one PUT whose URL signs the sha256 declared at creation (INLET_MULTIPART_THRESHOLD)
             */
            multipart_threshold: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
