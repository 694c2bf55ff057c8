import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';

/** A throwaway operator-mode setup (what `nsc` makes): the servers' configuration and users' `.creds` files. */
export interface OperatorSetup {
  /** Lines for every server's configuration: the operator, the system account, a memory resolver with the accounts. */
  serverConfig: string;
  /** A user of the app account (JetStream enabled). */
  credsFile: string;
  /** A user of an account the servers do not know (signed by the operator, never preloaded). */
  unknownAccountCredsFile: string;
  /** A user of the app account whose JWT was re-signed by a key that is not the account's. */
  forgedCredsFile: string;
}

// every limit spelled out: one left out is 0 to the server (no connection, no subscription)
const UNLIMITED = { subs: -1, data: -1, payload: -1, conn: -1, leaf: -1, imports: -1, exports: -1, wildcards: true, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };

export async function makeOperatorSetup(): Promise<OperatorSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'episteme-nats-creds-'));
  const operator = createOperator();
  const system = createAccount();
  const app = createAccount();
  const unknown = createAccount();
  const sign = { signer: operator };
  const operatorJwt = await encodeOperator('episteme-test', operator, { system_account: system.getPublicKey() });
  const systemJwt = await encodeAccount('SYS', system, {}, sign);
  const appJwt = await encodeAccount('APP', app, { limits: UNLIMITED }, sign);
  const creds = async (file: string, account: ReturnType<typeof createAccount>, issuer = account): Promise<string> => {
    const user = createUser();
    // a user signed by another key claims the account as its issuer_account (as a signing key's users do)
    const jwt = await encodeUser(file, user, issuer, issuer === account ? {} : { issuer_account: account.getPublicKey() });
    const path = join(dir, `${file}.creds`);
    writeFileSync(path, fmtCreds(jwt, user), { mode: 0o600 });
    return path;
  };
  return {
    serverConfig: [
      `operator: "${operatorJwt}"`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      `resolver_preload: { ${system.getPublicKey()}: "${systemJwt}", ${app.getPublicKey()}: "${appJwt}" }`,
    ].join('\n'),
    credsFile: await creds('app-user', app),
    unknownAccountCredsFile: await creds('stranger', unknown),
    forgedCredsFile: await creds('forged', app, createAccount()),
  };
}
