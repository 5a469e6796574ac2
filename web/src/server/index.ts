// What `npm start` and the tests use to run the web server.
export { parseWebEnv, type WebEnv, webEnvironment, webEnvSchema } from "./config.ts";
export { contentSecurityPolicy, startWebServer, type WebServer } from "./serve.ts";
