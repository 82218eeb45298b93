/**
 * The app in the bench's own process: its handlers called as API Gateway calls them, warmed up on
 * 1,000 rows before anything is measured. Imported once the services have set the environment.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { httpEvent, lambdaContext } from '../support/lambda-events';
import { seed, type Services } from './context';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

export type WarmApp = Awaited<ReturnType<typeof warmApp>>;

/** Imports the handlers, adds 1,000 rows, and calls every path 50 times (connections, JIT). */
export async function warmApp(services: Services) {
  const handlers = {
    get: (await import('../functions/images-get')).handler as Handler,
    list: (await import('../functions/images-list')).handler as Handler,
    create: (await import('../functions/images-create')).handler as Handler,
  };
  const context = lambdaContext();
  /** Invokes a handler; throws unless it answers `expected`. */
  const call = async (handler: Handler, event: APIGatewayProxyEventV2, expected: number) => {
    const res = (await handler(event, context)) as APIGatewayProxyStructuredResultV2;
    if (res.statusCode !== expected) throw new Error(`expected ${expected}, got ${res.statusCode}: ${res.body}`);
    return res;
  };
  await seed(services, 1000);
  const [newest] = await services.sql<{ id: string }[]>`select id from images order by created_at desc limit 1`;
  const id = newest?.id ?? '';
  const getEvent = httpEvent({ method: 'GET', path: `/api/v1/images/${id}`, route: 'GET /api/v1/images/{id}', pathParameters: { id } });
  const listEvent = httpEvent({ method: 'GET', path: '/api/v1/images/', route: 'GET /api/v1/images', query: { limit: '50' } });
  for (let i = 0; i < 50; i++) {
    await call(handlers.get, getEvent, 200);
    await call(handlers.list, listEvent, 200);
    await services.sql`select 1`;
    await services.redis.get('warm');
  }
  return { handlers, call, id, getEvent, listEvent };
}
