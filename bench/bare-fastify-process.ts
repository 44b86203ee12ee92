/**
 * The ceiling for publishing: a bare Fastify server that parses the same JSON body and answers 200, with
 * nothing stored. Herald's durable publish is measured against it in the same run.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.addContentTypeParser('application/cloudevents+json', { parseAs: 'string' }, (_request, body, done) => {
  try {
    done(null, JSON.parse(body as string));
  } catch (error) {
    done(error as Error);
  }
});
app.post('/events/api/v1/events', async (_request, reply) => reply.code(200).send());
app.listen({ port: 0, host: '127.0.0.1' }).then(() => {
  const address = app.server.address();
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
});
// Exit with the benchmark that forked it, should it crash or be interrupted (the IPC channel closes).
process.on('disconnect', () => process.exit(0));
