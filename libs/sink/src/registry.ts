import { SinkTypeUnknown } from './errors.js';
import type { SinkFactory } from './types.js';

/**
 * The backends a worker serves. Registration is explicit and fails fast on misuse (a type
 * registered twice, a factory without capabilities), like Backstage's plugin registration.
 */
export class SinkRegistry {
  private readonly factories = new Map<string, SinkFactory>();

  register(factory: SinkFactory): this {
    if (!factory.type) throw new TypeError('sink factory without a type');
    if (this.factories.has(factory.type)) {
      throw new TypeError(`sink type ${JSON.stringify(factory.type)} is registered twice`);
    }
    if (
      !factory.capabilities ||
      !Array.isArray(factory.capabilities.formats) ||
      factory.capabilities.formats.length === 0
    ) {
      throw new TypeError(`sink type ${JSON.stringify(factory.type)} declares no serialization formats`);
    }
    this.factories.set(factory.type, factory);
    return this;
  }

  has(type: string): boolean {
    return this.factories.has(type);
  }

  /** The factory of `type`; throws a terminal `UnknownSinkType` error. */
  get(type: string): SinkFactory {
    const f = this.factories.get(type);
    if (!f) throw SinkTypeUnknown(type, [...this.factories.keys()].join(', ') || 'no types');
    return f;
  }

  types(): string[] {
    return [...this.factories.keys()];
  }
}
