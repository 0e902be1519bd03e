// Display formatting lives in apps/shared, which the manager app uses too.
export * from "../../../shared/src/format";
