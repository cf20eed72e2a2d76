import { z } from 'zod';

const json: z.ZodType<unknown> = z.unknown().refine((v) => v !== undefined, { message: 'required' });

const eventQuery = z
  .object({ types: z.array(z.string()).optional(), tags: z.array(z.string()).optional() })
  .strict();

/** One event in an append body. */
export const newEventSchema = z
  .object({
    type: z.string(),
    data: json,
    metadata: z.record(z.unknown()).optional(),
    id: z.string().optional(),
    tags: z.array(z.string()).optional(),
  })
  .strict();

/** Body of `POST …/streams/:streamId`. Deeper checks (sizes, ids, JSON) are the store's own. */
export const appendBodySchema = z
  .object({
    events: z.array(newEventSchema).min(1, 'at least one event is required'),
    expectedVersion: z
      .union([z.number().int().nonnegative(), z.enum(['any', 'no_stream', 'stream_exists'])], {
        errorMap: () => ({
          message: "must be a non-negative integer, 'any', 'no_stream' or 'stream_exists'",
        }),
      })
      .optional(),
    condition: z
      .object({
        failIfEventsMatch: z.union([eventQuery, z.array(eventQuery).min(1)]),
        after: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

const intParam = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a non-negative integer')
  .transform(Number);

/** Query of `GET …/streams/:streamId`. */
export const readStreamQuerySchema = z
  .object({
    fromVersion: intParam.optional(),
    toVersion: intParam.optional(),
    limit: intParam.optional(),
    direction: z.enum(['forwards', 'backwards']).optional(),
  })
  .strict();

/** Query of `GET …/events` (types and tags are repeated `type=` / `tag=` parameters). */
export const readAllQuerySchema = z
  .object({ after: z.string().optional(), limit: intParam.optional() })
  .strict();

/** Query of `GET …/streams`. */
export const listStreamsQuerySchema = z
  .object({
    search: z.string().max(512).optional(),
    after: z.string().optional(),
    limit: intParam.pipe(z.number().min(1).max(1_000)).optional(),
  })
  .strict();

/** Query of `GET …/subscribe`. */
export const subscribeQuerySchema = z.object({ after: z.string().optional() }).strict();
