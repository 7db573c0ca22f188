"""What every JSON endpoint shares: the error classes and the one handler that renders them."""
