/** Redis for the BullMQ and pub/sub suites: they run when REDIS_URL is set (CI sets it). */
export const redisUrl = process.env.REDIS_URL;
export const runners: ('in-process' | 'bullmq')[] = redisUrl ? ['in-process', 'bullmq'] : ['in-process'];
