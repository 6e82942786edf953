import type { ServiceName } from '../state.js';
import { etcd } from './etcd.js';
import { gcs } from './gcs.js';
import { git } from './git.js';
import { kafka } from './kafka.js';
import { kubeApiserver } from './kube.js';
import { mongo } from './mongo.js';
import { nats } from './nats.js';
import { postgres } from './postgres.js';
import { s3 } from './s3.js';
import { sshd } from './sshd.js';
import { tls } from './tls.js';
import type { ServiceDef } from './types.js';

export type { Ctx, Health, ServiceDef } from './types.js';

export const SERVICES: Record<ServiceName, ServiceDef> = {
  nats,
  postgres,
  etcd,
  'kube-apiserver': kubeApiserver,
  git,
  s3,
  gcs,
  kafka,
  mongo,
  sshd,
  tls,
};
