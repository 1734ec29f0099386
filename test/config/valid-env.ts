/** The BOT_* variables every valid configuration needs, shared by the config tests. */
export const VALID_BOT_ENV = {
  BOT_APP_ID: "2891555a-92ff-42e6-80fa-6e1300c6b5c6",
  BOT_APP_SECRET: "s3cret",
  BOT_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  BOT_PUBLIC_URL: "https://bot.contoso.com/",
  BOT_MEDIA_FQDN: "media.contoso.com",
  BOT_BRIDGE_SECRET: "0123456789abcdef0123",
} as const;
