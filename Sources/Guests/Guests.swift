public enum Guests {}
