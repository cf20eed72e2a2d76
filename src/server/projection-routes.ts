import type { Hono } from 'hono';
import { HttpError } from './http-error.js';
import { projectionNames, projectionStatuses, toStatusView } from './projection-status.js';
import type { ApiEnv, ServerContext } from './server-context.js';

/**
 * Projection list, status and rebuild routes. Projections live in the namespace of the store the
 * registry was built on; other namespaces have none. A rebuild runs in the background (blue/green
 * in the registry, so readers keep the live version) and its progress is polled.
 */
export function registerProjectionRoutes(app: Hono<ApiEnv>, ctx: ServerContext): void {
  const base = '/api/v1/ns/:namespace/projections';
  const projectionNamespace = ctx.projections?.store?.namespace ?? ctx.store.namespace;
  const registryFor = (namespace: string) =>
    namespace === projectionNamespace ? ctx.projections : undefined;

  const requireProjection = async (namespace: string, name: string) => {
    const registry = registryFor(namespace);
    if (!registry || !(await projectionNames(registry)).includes(name)) {
      throw new HttpError(
        404,
        'NOT_FOUND',
        `no projection ${JSON.stringify(name)} in namespace ${JSON.stringify(namespace)}`,
      );
    }
    return registry;
  };

  app.get(base, async (c) => {
    const registry = registryFor(c.var.ns.namespace);
    if (!registry) return c.json({ available: false, projections: [] });
    const statuses = await projectionStatuses(registry);
    return c.json({
      available: true,
      projections: statuses.map((s) => ({ ...s, rebuild: ctx.rebuilds?.get(s.name) ?? null })),
    });
  });

  app.get(`${base}/:name`, async (c) => {
    const name = c.req.param('name');
    const registry = await requireProjection(c.var.ns.namespace, name);
    const status = toStatusView(await registry.status(name), name);
    return c.json({ ...status, rebuild: ctx.rebuilds?.get(name) ?? null });
  });

  app.post(`${base}/:name/rebuild`, async (c) => {
    const name = c.req.param('name');
    await requireProjection(c.var.ns.namespace, name);
    return c.json(ctx.rebuilds!.start(name), 202);
  });

  app.get(`${base}/:name/rebuild`, async (c) => {
    const name = c.req.param('name');
    await requireProjection(c.var.ns.namespace, name);
    const rebuild = ctx.rebuilds?.get(name);
    if (!rebuild)
      throw new HttpError(
        404,
        'NOT_FOUND',
        `projection ${JSON.stringify(name)} has not been rebuilt by this server`,
      );
    return c.json(rebuild);
  });
}
