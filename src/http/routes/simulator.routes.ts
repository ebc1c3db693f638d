import type { FastifyInstance } from 'fastify';
import { SimulatorInboundAccepted, SimulatorInboundBody, SimulatorOutboundList, SimulatorSessionList } from '../../control-plane/dto/simulator.dto.ts';
import type { ControlPlane } from '../../control-plane/control-plane.ts';
import { BotIdParams, errorResponses, ref } from '../schemas/common.schemas.ts';

const tags = ['simulator'];

/** The simulator provider's fake WhatsApp side: push inbound messages, read what the bot sent and the sessions it ran. */
export function simulatorRoutes(cp: ControlPlane) {
  return async function register(app: FastifyInstance): Promise<void> {
    app.post<{ Params: BotIdParams; Body: SimulatorInboundBody }>(
      '/bots/:id/simulator/inbound',
      {
        // Media arrives base64 in the body: this route takes the media body limit.
        config: { carriesMedia: true },
        schema: {
          tags,
          summary: 'Deliver a text or media message to a running simulator bot; answers once it is stored',
          params: BotIdParams,
          body: ref(SimulatorInboundBody),
          response: { 202: ref(SimulatorInboundAccepted), ...errorResponses(400, 401, 404, 409, 413, 414, 415, 429, 503) },
        },
      },
      async (request, reply) => reply.status(202).send(await cp.simulatorInbound(request.params.id, request.body)),
    );

    app.get<{ Params: BotIdParams }>(
      '/bots/:id/simulator/outbound',
      {
        schema: {
          tags,
          summary: 'What a simulator bot has sent, oldest first',
          params: BotIdParams,
          response: { 200: ref(SimulatorOutboundList), ...errorResponses(400, 401, 404, 409, 414, 429, 503) },
        },
      },
      async (request) => cp.simulatorOutbound(request.params.id),
    );

    app.get<{ Params: BotIdParams }>(
      '/bots/:id/simulator/sessions',
      {
        schema: {
          tags,
          summary: 'The provider sessions a simulator bot ran, on any instance, newest last',
          params: BotIdParams,
          response: { 200: ref(SimulatorSessionList), ...errorResponses(400, 401, 404, 409, 414, 429, 503) },
        },
      },
      async (request) => cp.simulatorSessions(request.params.id),
    );
  };
}
