//! The lecture examples, run with small settings: each must still learn what
//! it teaches. Every example is a module here, so `cargo test` compiles it and
//! calls its `run` directly.

#[allow(dead_code)]
#[path = "../examples/quickstart.rs"]
mod quickstart;

#[allow(dead_code)]
#[path = "../examples/perceptron.rs"]
mod perceptron;

#[allow(dead_code)]
#[path = "../examples/backprop.rs"]
mod backprop;

#[allow(dead_code)]
#[path = "../examples/regression.rs"]
mod regression;

#[allow(dead_code)]
#[path = "../examples/classification.rs"]
mod classification;

#[allow(dead_code)]
#[path = "../examples/optimizers.rs"]
mod optimizers;

#[test]
fn quickstart_learns_mnist_digits_in_two_short_epochs() {
    // Two epochs on 4,000 digits reach ~0.90 (on 2,000 only ~0.82, too close
    // to the bar to be a robust check).
    let config = quickstart::Config {
        epochs: 2,
        train_samples: 4000,
        ..quickstart::Config::full()
    };
    let r = quickstart::run(&config).expect("quickstart runs");
    assert!(
        r.test_accuracy > 0.8,
        "test accuracy {} (chance is 0.1)",
        r.test_accuracy
    );
    assert!(
        r.last_epoch_loss < r.first_epoch_loss,
        "training loss did not fall: {} -> {}",
        r.first_epoch_loss,
        r.last_epoch_loss
    );
}

#[test]
fn perceptron_separates_iris_but_not_xor_and_the_mlp_solves_xor() {
    let config = perceptron::Config {
        xor_epochs: 100,
        mlp_steps: 500,
        ..perceptron::Config::full()
    };
    let r = perceptron::run(&config).expect("perceptron runs");
    assert!(
        r.separable_epochs.is_some(),
        "the perceptron did not converge on separable data"
    );
    assert_eq!(r.separable_errors, 0, "of {}", r.separable_samples);
    // No epoch on XOR was free of mistakes, and the final line is wrong somewhere.
    assert!(r.xor_min_epoch_mistakes >= 1);
    assert!(r.xor_perceptron_errors >= 1);
    assert_eq!(r.xor_mlp_accuracy, 1.0, "MLP loss {}", r.xor_mlp_loss);
    assert!(r.xor_mlp_loss < 0.1, "MLP loss {}", r.xor_mlp_loss);
}

#[test]
fn backprop_closed_forms_equal_kiln_gradients() {
    let r = backprop::run(&backprop::Config::full()).expect("backprop runs");
    assert_eq!(r.gradients.len(), 8);
    for g in &r.gradients {
        assert_eq!(g.kiln.len(), g.shape[0] * g.shape[1], "{}", g.name);
        // A gradient of zeros would agree with a wrong closed form of zeros.
        assert!(
            g.closed_form.iter().any(|v| v.abs() > 1e-4),
            "{} is trivially small",
            g.name
        );
    }
    assert!(r.max_abs_diff < 1e-5, "max difference {}", r.max_abs_diff);
}

#[test]
fn regression_mlp_beats_the_mean_and_matches_least_squares_on_auto_mpg() {
    let config = regression::Config {
        epochs: 60,
        diabetes: false,
        ..regression::Config::full()
    };
    let r = regression::run(&config).expect("regression runs").auto_mpg;
    assert_eq!((r.train_rows + r.val_rows, r.test_rows), (314, 78));
    // The closed-form baseline reproduces the reference RMSE of data/README.md.
    assert!(
        (r.linear_test_rmse - 2.80).abs() < 0.02,
        "least squares RMSE {}",
        r.linear_test_rmse
    );
    assert!(
        r.test_rmse < 0.5 * r.mean_test_rmse,
        "MLP RMSE {} vs predicting the mean {}",
        r.test_rmse,
        r.mean_test_rmse
    );
    assert!(
        r.test_rmse < 1.05 * r.linear_test_rmse,
        "MLP RMSE {} vs least squares {}",
        r.test_rmse,
        r.linear_test_rmse
    );
    assert!((r.test_mse - r.test_rmse * r.test_rmse).abs() < 1e-9);
}

#[test]
fn classification_is_well_above_chance_on_digits_and_breast_cancer() {
    let config = classification::Config {
        epochs: 10,
        small_sets: false,
        ..classification::Config::full()
    };
    let r = classification::run(&config).expect("classification runs");
    let digits = r.accuracy("digits").expect("digits trained");
    let cancer = r.accuracy("breast_cancer").expect("breast cancer trained");
    // Chance is 0.1 on digits; always answering "benign" scores 0.63 on the test rows.
    assert!(digits > 0.85, "digits accuracy {digits}");
    assert!(cancer > 0.9, "breast cancer accuracy {cancer}");
    for s in &r.scores {
        assert!(
            s.last_epoch_loss < 0.5 * s.first_epoch_loss,
            "{}: loss {} -> {}",
            s.name,
            s.first_epoch_loss,
            s.last_epoch_loss
        );
    }
}

#[test]
fn optimizers_all_descend_and_momentum_and_adam_beat_gradient_descent() {
    let csv = std::env::temp_dir().join(format!(
        "kiln-examples-{}/rosenbrock.csv",
        std::process::id()
    ));
    let config = optimizers::Config {
        rosenbrock_steps: 500,
        digits_steps: 100,
        trajectory_csv: Some(csv.clone()),
        ..optimizers::Config::full()
    };
    let r = optimizers::run(&config).expect("optimizers run");
    assert_eq!(r.rows.len(), 6);
    let row = |n: &str| r.row(n).expect("every optimizer has a row");
    for o in &r.rows {
        assert!(
            o.rosenbrock < 0.5 * r.rosenbrock_start,
            "{}: Rosenbrock {} from {}",
            o.name,
            o.rosenbrock,
            r.rosenbrock_start
        );
        assert!(
            o.digits_loss < r.digits_start_loss - 0.1,
            "{}: digits loss {} from {}",
            o.name,
            o.digits_loss,
            r.digits_start_loss
        );
    }
    // Along Rosenbrock's valley, momentum and Adam leave gradient descent far behind.
    for fast in ["momentum", "adam"] {
        assert!(
            row(fast).rosenbrock < 0.1 * row("gd").rosenbrock,
            "{fast} {} vs gd {}",
            row(fast).rosenbrock,
            row("gd").rosenbrock
        );
    }
    // At their default learning rates, the adaptive and momentum methods
    // train the digits MLP faster than plain gradient descent.
    for fast in ["momentum", "rmsprop", "adam"] {
        assert!(
            row(fast).digits_loss < row("gd").digits_loss,
            "{fast} {} vs gd {}",
            row(fast).digits_loss,
            row("gd").digits_loss
        );
    }
    let text = std::fs::read_to_string(&csv).expect("trajectories written");
    assert!(text.starts_with("optimizer,step,x,y,f\n"));
    assert_eq!(text.lines().count(), 1 + 6 * (500 + 1));
    let _ = std::fs::remove_dir_all(csv.parent().expect("a directory"));
}
