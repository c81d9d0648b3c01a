/**
 * The SKUs of the saga's order ($1: the saga id), in SQL: a task's read goes out with the load,
 * before the worker has the order. The medications are `OrderLine`s ({ sku, quantity }).
 */
export const ORDER_SKUS = `select line->>'sku' from orders o,
  jsonb_array_elements(o.medications) as line where o.saga_id = $1::uuid`;
