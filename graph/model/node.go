package model

// Node is any object of the schema's Node interface: one of Kajabi's records
// (*kajabi.Customer, *kajabi.Contact, *kajabi.Site, *kajabi.Product, *kajabi.Offer).
type Node any
