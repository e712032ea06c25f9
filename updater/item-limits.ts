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
  let n = 0
  for (const [name, value] of Object.entries(item)) if (value !== undefined) n += Buffer.byteLength(name, 'utf8') + valueSizeAtLeast(value)
  return n
}

function valueSizeAtLeast (v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8')
  if (v instanceof Uint8Array) return v.byteLength
  if (Array.isArray(v) || v instanceof Set) {
    let n = 0
    for (const e of v) n += valueSizeAtLeast(e)
    return n
  }
  if (v !== null && typeof v === 'object') return itemSizeAtLeast(v as Record<string, unknown>)
  return 1
}

/** Name and message of the refusal DynamoDB would answer for this item, or undefined. Pure. */
export function itemLimitBroken (item: Record<string, unknown>): { name: string, message: string } | undefined {
  const pk = typeof item.pk === 'string' ? Buffer.byteLength(item.pk, 'utf8') : 0
  const sk = typeof item.sk === 'string' ? Buffer.byteLength(item.sk, 'utf8') : 0
  const at = `item ${String(item.sk).slice(0, 100)} of ${String(item.pk).slice(0, 80)}`
  if (pk > MAX_PARTITION_KEY_BYTES) return { name: 'KeyTooLong', message: `${at}: partition key of ${pk} bytes, over DynamoDB's ${MAX_PARTITION_KEY_BYTES} (refused before sending)` }
  if (sk > MAX_SORT_KEY_BYTES) return { name: 'KeyTooLong', message: `${at}: sort key of ${sk} bytes, over DynamoDB's ${MAX_SORT_KEY_BYTES} (refused before sending)` }
  const size = itemSizeAtLeast(item)
  if (size > MAX_ITEM_BYTES) return { name: 'ItemTooLarge', message: `${at}: at least ${size} bytes, over DynamoDB's item limit of ${MAX_ITEM_BYTES} (refused before sending)` }
  return undefined
}
