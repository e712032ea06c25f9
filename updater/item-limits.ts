/**
 * DynamoDB's limits on one item (service quotas): 400 KB per item, attribute names and values
 * included; 2048 bytes of partition key and 1024 bytes of sort key (UTF-8). A write that breaks one
 * is refused for good. DynamoIo checks them before sending, so a step of a batch that would be
 * refused for this reason is refused whole, before any of its requests is applied (see isolation.ts).
 */
export const MAX_ITEM_BYTES = 400 * 1024
export const MAX_PARTITION_KEY_BYTES = 2048
export const MAX_SORT_KEY_BYTES = 1024

/**
 * A lower bound of the size DynamoDB counts for an item: UTF-8 bytes of every attribute name and
 * string, bytes of binaries, 1 byte per number, boolean or null (DynamoDB counts numbers as at least
 * that and lists and maps with some overhead more). Never above the real size, so an item refused
 * here is refused by DynamoDB too. Pure.
 */
export function itemSizeAtLeast (item: Record<string, unknown>): number {
  return sizeOf(item, true)
}

/** Sum of names and values; strings in UTF-8 bytes when `exact`, else in UTF-16 units (never more than the bytes). */
function sizeOf (v: unknown, exact: boolean): number {
  if (typeof v === 'string') return exact ? Buffer.byteLength(v, 'utf8') : v.length
  if (v instanceof Uint8Array) return v.byteLength
  let n = 0
  if (Array.isArray(v) || v instanceof Set) {
    for (const e of v) n += sizeOf(e, exact)
    return n
  }
  if (v !== null && typeof v === 'object') {
    for (const [name, value] of Object.entries(v)) if (value !== undefined) n += (exact ? Buffer.byteLength(name, 'utf8') : name.length) + sizeOf(value, exact)
    return n
  }
  return 1
}

/** Name and message of the refusal DynamoDB would answer for this item, or undefined. Pure. */
export function itemLimitBroken (item: Record<string, unknown>): { name: string, message: string } | undefined {
  const pk = typeof item.pk === 'string' ? Buffer.byteLength(item.pk, 'utf8') : 0
  const sk = typeof item.sk === 'string' ? Buffer.byteLength(item.sk, 'utf8') : 0
  const at = `item ${String(item.sk).slice(0, 100)} of ${String(item.pk).slice(0, 80)}`
  if (pk > MAX_PARTITION_KEY_BYTES) return { name: 'KeyTooLong', message: `${at}: partition key of ${pk} bytes, over DynamoDB's ${MAX_PARTITION_KEY_BYTES} (refused before sending)` }
  if (sk > MAX_SORT_KEY_BYTES) return { name: 'KeyTooLong', message: `${at}: sort key of ${sk} bytes, over DynamoDB's ${MAX_SORT_KEY_BYTES} (refused before sending)` }
  // UTF-8 takes 1 to 3 bytes per UTF-16 unit: counting units (cheap) settles almost every item;
  // bytes are counted only for one that could be over.
  if (sizeOf(item, false) * 3 <= MAX_ITEM_BYTES) return undefined
  const size = itemSizeAtLeast(item)
  if (size > MAX_ITEM_BYTES) return { name: 'ItemTooLarge', message: `${at}: at least ${size} bytes, over DynamoDB's item limit of ${MAX_ITEM_BYTES} (refused before sending)` }
  return undefined
}
