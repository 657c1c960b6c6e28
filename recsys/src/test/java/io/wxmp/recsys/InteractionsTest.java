package io.wxmp.recsys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class InteractionsTest {

  @Test
  void sumsDuplicatesAndSortsItemsPerUser() {
    Interactions m = Interactions.of(3, 5,
        new int[] {2, 0, 0, 2, 0},
        new int[] {4, 3, 1, 4, 3},
        new float[] {1, 2, 5, 0.5f, 1});
    assertThat(m.users()).isEqualTo(3);
    assertThat(m.items()).isEqualTo(5);
    assertThat(m.nnz()).isEqualTo(3);
    assertThat(m.itemsOf(0)).containsExactly(1, 3);
    assertThat(m.strengthsOf(0)).containsExactly(5f, 3f);
    assertThat(m.itemsOf(1)).isEmpty();
    assertThat(m.itemsOf(2)).containsExactly(4);
    assertThat(m.strengthsOf(2)).containsExactly(1.5f);
  }

  @Test
  void transposeListsUsersPerItem() {
    Interactions m = Interactions.of(3, 4,
        new int[] {2, 0, 1, 0},
        new int[] {1, 1, 3, 2},
        new float[] {1, 2, 3, 4});
    Interactions t = m.transpose();
    assertThat(t.users()).isEqualTo(4);
    assertThat(t.items()).isEqualTo(3);
    assertThat(t.itemsOf(1)).containsExactly(0, 2);
    assertThat(t.strengthsOf(1)).containsExactly(2f, 1f);
    assertThat(t.itemsOf(0)).isEmpty();
    assertThat(t.itemsOf(3)).containsExactly(1);
  }

  @Test
  void rejectsBadInput() {
    assertThatThrownBy(() -> Interactions.of(2, 2, new int[] {0}, new int[] {0, 1}, new float[] {1}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Interactions.of(2, 2, new int[] {2}, new int[] {0}, new float[] {1}))
        .hasMessageContaining("user 2");
    assertThatThrownBy(() -> Interactions.of(2, 2, new int[] {0}, new int[] {-1}, new float[] {1}))
        .hasMessageContaining("item -1");
    assertThatThrownBy(() -> Interactions.of(2, 2, new int[] {0}, new int[] {0}, new float[] {Float.NaN}))
        .hasMessageContaining("strength");
    assertThatThrownBy(() -> Interactions.of(2, 2, new int[] {0}, new int[] {0}, new float[] {-1}))
        .hasMessageContaining("strength");
  }
}
