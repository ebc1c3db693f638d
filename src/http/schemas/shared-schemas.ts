import type { FastifyInstance } from 'fastify';
import { AiPauseBody, AiStatus } from '../../control-plane/dto/ai.dto.ts';
import { BotCreateBody, BotList, BotPatchBody, BotView, PairingCodeBody, PairingCodeView, QrView } from '../../control-plane/dto/bot.dto.ts';
import { CorrespondentList, HistoryList, QueueMessageList } from '../../control-plane/dto/conversation.dto.ts';
import { InstanceList, InstanceView } from '../../control-plane/dto/instance.dto.ts';
import { JobList, JobView } from '../../control-plane/dto/job.dto.ts';
import { OutboxEntry, OutboxList, SendMessageAccepted, SendMessageBody } from '../../control-plane/dto/message.dto.ts';
import { SimulatorInboundAccepted, SimulatorInboundBody, SimulatorOutboundList, SimulatorSessionList } from '../../control-plane/dto/simulator.dto.ts';
import { Liveness, Readiness } from '../health.routes.ts';
import { WebhookCreateBody, WebhookCreated, WebhookDeliveryList, WebhookDeliveryView, WebhookList, WebhookView } from '../../control-plane/dto/webhook.dto.ts';
import { ErrorBody } from './common.schemas.ts';
import { CloudWebhookReceived } from '../../control-plane/dto/cloud-api.dto.ts';

/**
 * Every named body and response schema. Path and query schemas stay inline: the document lists
 * their fields as parameters anyway.
 */
const SHARED_SCHEMAS = [
  ErrorBody, Liveness, Readiness,
  BotCreateBody, BotPatchBody, BotView, BotList, QrView, PairingCodeBody, PairingCodeView,
  CorrespondentList, QueueMessageList, HistoryList,
  AiStatus, AiPauseBody,
  JobView, JobList,
  SendMessageBody, SendMessageAccepted, OutboxEntry, OutboxList,
  SimulatorInboundBody, SimulatorInboundAccepted, SimulatorOutboundList, SimulatorSessionList,
  WebhookCreateBody, WebhookCreated, WebhookView, WebhookList, WebhookDeliveryView, WebhookDeliveryList,
  CloudWebhookReceived,
  InstanceView, InstanceList,
];

/**
 * Registers the named schemas on the root instance, before any route, so every scope can refer to
 * them with `ref` and the OpenAPI document lists them under `components.schemas`.
 */
export function registerSharedSchemas(app: FastifyInstance): void {
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);
}
