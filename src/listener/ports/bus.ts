/** One message as it arrived, before anything is known about it. */
export interface Envelope {
  /** The broker's message-id, or the id the intake gave it. */
  id: string;
  /** The virtual topic name, e.g. VirtualTopic.eng.ci.redhat-container-group.test.queued. */
  topic: string;
  headers: Record<string, string>;
  body: string;
  source: 'bus' | 'intake' | 'replay';
  /** Set when the bytes were not valid UTF-8 (the body then holds a lossy decoding). */
  encodingError?: string;
}

export interface Delivery {
  envelope: Envelope;
  /** Opaque to the core: what the bus needs to ack or nack this delivery. */
  handle: unknown;
}

export type DeliveryHandler = (delivery: Delivery) => void;

export interface Bus {
  subscribe(topic: string, onDelivery: DeliveryHandler): Promise<void>;
  publish(destination: string, body: string, headers: Record<string, string>): Promise<void>;
  /** Acks on the connection that delivered it; a delivery from a connection since lost is left for redelivery. */
  ack(delivery: Delivery): Promise<void>;
  nack(delivery: Delivery): Promise<void>;
  close(): Promise<void>;
}
