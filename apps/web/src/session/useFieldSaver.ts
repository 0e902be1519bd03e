import { useRef } from "react";
import { api } from "../api";
import { orderedSaver, type OrderedSaver } from "../lib/orderedSave";

/** Saves one account field with `updateUser`, in order: the newest value is the last the server gets. */
export function useFieldSaver<T>(field: string, onError: (error: unknown) => void): OrderedSaver<T> {
  const errors = useRef(onError);
  errors.current = onError;
  const saver = useRef<OrderedSaver<T> | null>(null);
  if (!saver.current) saver.current = orderedSaver<T>((value) => api.set(field, value), (e) => errors.current(e));
  return saver.current;
}
