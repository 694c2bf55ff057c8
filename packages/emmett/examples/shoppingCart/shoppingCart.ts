import { CommandHandler, IllegalStateError, type Command, type Event } from '@event-driven-io/emmett';

/**
 * A shopping cart as an Emmett decider: our own version of the domain
 * Emmett's documentation walks through (add and remove product items,
 * confirm, cancel). Commands are decided against the state folded from the
 * cart's events; a decision is a list of new events.
 */
export interface ProductItem {
  productId: string;
  quantity: number;
  unitPrice: number;
}

export type ProductItemAdded = Event<'ProductItemAdded', { cartId: string; item: ProductItem; addedAt: string }>;
export type ProductItemRemoved = Event<'ProductItemRemoved', { cartId: string; item: ProductItem; removedAt: string }>;
export type ShoppingCartConfirmed = Event<'ShoppingCartConfirmed', { cartId: string; confirmedAt: string }>;
export type ShoppingCartCancelled = Event<'ShoppingCartCancelled', { cartId: string; cancelledAt: string }>;
export type ShoppingCartEvent = ProductItemAdded | ProductItemRemoved | ShoppingCartConfirmed | ShoppingCartCancelled;

export type AddProductItem = Command<'AddProductItem', { cartId: string; item: ProductItem; now: string }>;
export type RemoveProductItem = Command<'RemoveProductItem', { cartId: string; item: ProductItem; now: string }>;
export type ConfirmShoppingCart = Command<'ConfirmShoppingCart', { cartId: string; now: string }>;
export type CancelShoppingCart = Command<'CancelShoppingCart', { cartId: string; now: string }>;
export type ShoppingCartCommand = AddProductItem | RemoveProductItem | ConfirmShoppingCart | CancelShoppingCart;

export type ShoppingCart =
  | { status: 'Empty' }
  | { status: 'Open'; items: Record<string, { quantity: number; unitPrice: number }> }
  | { status: 'Closed'; items: Record<string, { quantity: number; unitPrice: number }>; confirmed: boolean };

export const initialState = (): ShoppingCart => ({ status: 'Empty' });

const itemsOf = (state: ShoppingCart): Record<string, { quantity: number; unitPrice: number }> => (state.status === 'Empty' ? {} : state.items);

export function evolve(state: ShoppingCart, event: ShoppingCartEvent): ShoppingCart {
  switch (event.type) {
    case 'ProductItemAdded': {
      const items = { ...itemsOf(state) };
      const { productId, quantity, unitPrice } = event.data.item;
      items[productId] = { quantity: (items[productId]?.quantity ?? 0) + quantity, unitPrice };
      return { status: 'Open', items };
    }
    case 'ProductItemRemoved': {
      const items = { ...itemsOf(state) };
      const { productId, quantity } = event.data.item;
      const left = (items[productId]?.quantity ?? 0) - quantity;
      if (left > 0) items[productId] = { ...items[productId]!, quantity: left };
      else delete items[productId];
      return { status: 'Open', items };
    }
    case 'ShoppingCartConfirmed':
      return { status: 'Closed', items: itemsOf(state), confirmed: true };
    case 'ShoppingCartCancelled':
      return { status: 'Closed', items: itemsOf(state), confirmed: false };
  }
}

export function decide(command: ShoppingCartCommand, state: ShoppingCart): ShoppingCartEvent[] {
  if (state.status === 'Closed') throw new IllegalStateError(`cart ${command.data.cartId} is closed`);
  const { cartId, now } = command.data;
  switch (command.type) {
    case 'AddProductItem':
      return [{ type: 'ProductItemAdded', data: { cartId, item: command.data.item, addedAt: now } }];
    case 'RemoveProductItem': {
      const have = itemsOf(state)[command.data.item.productId]?.quantity ?? 0;
      if (have < command.data.item.quantity) throw new IllegalStateError(`cart ${cartId} has ${have} of ${command.data.item.productId}`);
      return [{ type: 'ProductItemRemoved', data: { cartId, item: command.data.item, removedAt: now } }];
    }
    case 'ConfirmShoppingCart':
      if (state.status === 'Empty') throw new IllegalStateError(`cart ${cartId} is empty`);
      return [{ type: 'ShoppingCartConfirmed', data: { cartId, confirmedAt: now } }];
    case 'CancelShoppingCart':
      return [{ type: 'ShoppingCartCancelled', data: { cartId, cancelledAt: now } }];
  }
}

export const cartStream = (cartId: string): string => `shopping_cart-${cartId}`;

/** Emmett's CommandHandler for carts: aggregate the cart, decide, append with the version read. */
export const handleCartCommand = CommandHandler<ShoppingCart, ShoppingCartEvent>({ evolve, initialState, mapToStreamId: cartStream });

/** Runs one command through CommandHandler on any Emmett event store (retry: Emmett's HandleOptions). */
export const handle = <Store extends Parameters<typeof handleCartCommand>[0]>(store: Store, command: ShoppingCartCommand, options?: Parameters<typeof handleCartCommand>[3]) =>
  handleCartCommand(store, command.data.cartId, (state) => decide(command, state), options);
