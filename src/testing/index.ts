/**
 * `teams-media-bot/testing`: the test kit for bot authors (run a handler against an emulated
 * call in a unit test, with a virtual clock). See docs/testing.md.
 */
export {};
