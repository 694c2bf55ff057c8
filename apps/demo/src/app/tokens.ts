import type { InjectionToken } from 'tsyringe';
import type { LocalEventStore } from '@episteme/store';
import type { JournalOptions } from '@episteme/wal';
import type { AuditExporter } from '../consumers/auditExport.js';
import type { AppConfig } from './config.js';

/** The app's tokens (the packages' own: CONSUMER_REGISTRY, PROJECTION_ENGINE, JOURNAL_READER). `Symbol.for`: one token across module copies. */
export const APP_CONFIG: InjectionToken<AppConfig> = Symbol.for('episteme.demo.AppConfig');
export const JOURNAL_OPTIONS: InjectionToken<JournalOptions> = Symbol.for('episteme.demo.JournalOptions');
/** The event store the app writes through: the journal's writer (one per directory, across processes). */
export const EVENT_STORE: InjectionToken<LocalEventStore> = Symbol.for('episteme.demo.EventStore');
export const AUDIT_EXPORTER: InjectionToken<AuditExporter> = Symbol.for('episteme.demo.AuditExporter');
