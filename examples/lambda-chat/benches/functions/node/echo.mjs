// The benchmark's echo function in Node.js: the message's body back, as a two-way route's
// response.
export const handler = async (event) => ({ statusCode: 200, body: event.body });
