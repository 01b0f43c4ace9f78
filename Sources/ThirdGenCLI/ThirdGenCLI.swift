public enum ThirdGenCLI {}
