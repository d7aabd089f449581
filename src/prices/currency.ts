/** The currencies prices come in (CNY in China regions), and how an amount in each is written. */
export type Currency = 'USD' | 'CNY';

export const CURRENCY_SYMBOL: Readonly<Record<Currency, string>> = { USD: '$', CNY: '¥' };
