import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type CryptoKey } from "jose";

/** A real JWKS endpoint over HTTP with keys the test can add (rotation) and sign with. */
export class JwksServer {
  private readonly keys: { kid: string; privateKey: CryptoKey; jwk: JWK }[] = [];
  private server: Server | null = null;
  url = "";
  fetches = 0;

  async start(): Promise<this> {
    await this.addKey("k1");
    this.server = createServer((_req, res) => {
      this.fetches++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
    return this;
  }

  async addKey(kid: string): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
    this.keys.push({ kid, privateKey, jwk });
  }

  /** Signs claims with key `kid` (a key the server may or may not publish). */
  async sign(
    claims: Record<string, unknown>,
    kid = "k1",
    unpublished?: CryptoKey,
  ): Promise<string> {
    const key = unpublished ?? this.keys.find((k) => k.kid === kid)!.privateKey;
    return new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid }).sign(key);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}
